// A running context server (native-bindings/context-server/): spawn, ready, typed requests, events.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FusejailError, NativeMissing } from '../errors.js';
import { Emitter, type IEvent } from '../event.js';
import { CONTROL_VERSION, type ControlMessage, type ControlRequest, type LaunchEvent, type Located, type ServeRequest } from './table.js';

export const contextServerProgram = fileURLToPath(new URL('../../build/native/context-server', import.meta.url));

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
/** A control request as a caller writes it; the id is added here. */
export type ControlAsk = WithoutId<ControlRequest>;
/** What each request answers: `locate` a handle, the others nothing. */
export type ControlResult<R extends ControlAsk> = R extends { op: 'locate' } ? Located : null;

export interface LogEvent {
  readonly message: string;
  /** Diagnostics the server dropped (rate limit or a full queue) since the previous one. */
  readonly dropped: number;
}

export interface ServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The server could not start serving, or stopped while a request was waiting. */
export class ContextServerFailed extends FusejailError {}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class ContextServer {
  private readonly launches = new Emitter<LaunchEvent>();
  private readonly logs = new Emitter<LogEvent>();
  private readonly exits = new Emitter<ServerExit>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly onLaunch: IEvent<LaunchEvent> = this.launches.event;
  readonly onLog: IEvent<LogEvent> = this.logs.event;
  readonly onExit: IEvent<ServerExit> = this.exits.event;
  /** Settles once the process has exited (after `stop()`, EOF, a signal or a crash). */
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly channel: Socket,
    readonly pid: number,
    exited: Promise<ServerExit>,
  ) {
    this.exited = exited.then((exit) => {
      for (const p of this.pending.values()) p.reject(new ContextServerFailed('ESRCH', `the context server exited (${exit.signal ?? exit.code}) before answering`));
      this.pending.clear();
      this.exits.fire(exit);
    });
  }

  /** Spawns the server, sends the serve request and waits for `ready` (or its `failed` reason). */
  static async start(request: Omit<ServeRequest, 'v' | 'op'>, options: { program?: string; timeoutMs?: number } = {}): Promise<ContextServer> {
    const program = options.program ?? contextServerProgram;
    // NOTE: stdio entry 3 'pipe' is a Unix stream socketpair: the server's control fd.
    const child = spawn(program, [], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    // NOTE: 'close', not 'exit': it comes after the last line and stderr byte have been read.
    const exited = new Promise<ServerExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const channel = child.stdio[3] as Socket;
    const lines = createInterface({ input: channel });
    let server: ContextServer | undefined;
    // NOTE: lines that arrive with `ready` wait one turn, so the caller can subscribe first.
    let early: ControlMessage[] | undefined;
    const first = new Promise<ControlMessage | Error>((resolve) => {
      lines.on('line', (line) => {
        let msg: ControlMessage;
        try {
          msg = JSON.parse(line) as ControlMessage;
        } catch {
          return;
        }
        if (early) early.push(msg);
        else if (server) server.receive(msg);
        else if (!('event' in msg) || msg.event !== 'ready') resolve(msg);
        else {
          server = new ContextServer(child, channel, msg.pid, exited);
          early = [];
          setImmediate(() => {
            const held = early ?? [];
            early = undefined;
            for (const m of held) server!.receive(m);
          });
          resolve(msg);
        }
      });
      void exited.then((exit) => resolve(new ContextServerFailed('EXITED', `the context server exited (${exit.signal ?? exit.code}) before it was ready: ${stderr.trim() || 'no output'}`)));
      void spawnError.then((err) =>
        resolve(
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? new NativeMissing(`${program} is missing (run make build)`, { cause: err })
            : new ContextServerFailed('SPAWN', `cannot start ${program}: ${err.message}`, { cause: err }),
        ),
      );
    });
    // NOTE: a server that dies may reset the socket; its exit says what happened.
    channel.on('error', () => {});
    lines.on('error', () => {});
    // NOTE: a spawn that failed (no pid) has no peer: writing would only raise EPIPE.
    if (child.pid !== undefined) channel.write(`${JSON.stringify({ v: CONTROL_VERSION, op: 'serve', ...request } satisfies ServeRequest)}\n`);
    // NOTE: a server stuck before ready (a mount hanging in the kernel) must not hang the caller.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Error>((resolve) => {
      timer = setTimeout(
        () => resolve(new ContextServerFailed('ETIMEDOUT', `the context server was not ready within ${options.timeoutMs ?? 30_000} ms: ${stderr.trim() || 'no output'}`)),
        options.timeoutMs ?? 30_000,
      );
    });
    const msg = await Promise.race([first, timeout]);
    clearTimeout(timer);
    if (msg instanceof Error) {
      child.kill('SIGKILL');
      throw msg;
    }
    if (server) return server;
    child.kill('SIGKILL');
    if ('event' in msg && msg.event === 'failed') throw new ContextServerFailed(msg.error.code, msg.error.message);
    throw new ContextServerFailed('EPROTO', `the context server answered ${JSON.stringify(msg)} instead of ready`);
  }

  /** One request; rejects with a FusejailError carrying the server's errno name as its code. */
  ask<R extends ControlAsk>(request: R): Promise<ControlResult<R>> {
    const id = this.nextId++;
    return new Promise<ControlResult<R>>((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        reject(new ContextServerFailed('ESRCH', 'the context server is not running'));
        return;
      }
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.channel.write(`${JSON.stringify({ id, ...request })}\n`);
    });
  }

  private receive(msg: ControlMessage): void {
    if ('id' in msg) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new FusejailError(msg.error.code, msg.error.message));
    } else if (msg.event === 'launch') {
      this.launches.fire(msg.launch);
    } else if (msg.event === 'log') {
      this.logs.fire({ message: msg.message, dropped: msg.dropped });
    }
  }

  /** Closes the channel: the server unmounts everything it serves and exits. */
  async stop(): Promise<void> {
    this.channel.end();
    // NOTE: a server stuck in the kernel (a hung unmount) must not hang the supervisor.
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
