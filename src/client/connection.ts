// A connection to the supervisor, which is started when none answers.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { type Socket, createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FusejailError } from '../errors.js';
import { LineDecoder } from '../protocol/framing.js';
import { PROTOCOL_VERSION, type Request, type Response, type StreamEvent } from '../protocol/messages.js';
import { ensureStateDir, socketPath, stateDir } from '../protocol/state-dir.js';
import type { Stopwatch, TraceStep } from '../trace.js';
import { addRemote } from './trace.js';

// NOTE: the client never imports the supervisor: it starts the supervisor's program by path.
const supervisorProgram = fileURLToPath(new URL('../supervisor/main.js', import.meta.url));
const START_TIMEOUT_MS = 10_000;

/** The supervisor answered with an error; `code` is the protocol's (EPERM, EINVAL, …). */
export class SupervisorError extends FusejailError {
  constructor(
    code: string,
    message: string,
    /** For a run whose command could not start: 125, 126 or 127. */
    readonly status?: number,
  ) {
    super(code, message);
  }
}

export class SupervisorUnavailable extends FusejailError {
  constructor(message: string) {
    super('SUPERVISOR_UNAVAILABLE', message);
  }
}

type Op = Request extends infer R ? (R extends { op: infer O } ? O : never) : never;
type Args<O extends Op> = Omit<Extract<Request, { op: O }>, 'v' | 'id' | 'op'>;

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });
}

/** Runs the supervisor in the foreground (`fusejail daemon --foreground`); resolves with its status. */
export function runSupervisorInForeground(): Promise<number> {
  const child = spawn(process.execPath, [supervisorProgram], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

/** Starts the supervisor in the background, logging to the state directory. */
export function startSupervisor(dir: string): void {
  const log = openSync(join(dir, 'supervisor.log'), 'a', 0o600);
  spawn(process.execPath, [supervisorProgram], { detached: true, stdio: ['ignore', log, log], env: { ...process.env, FUSEJAIL_STATE_DIR: dir } }).unref();
}

export class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private readonly streams = new Map<number, (event: StreamEvent) => void>();

  private constructor(private readonly socket: Socket) {
    const decoder = new LineDecoder();
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (!('line' in frame)) continue;
        const message = JSON.parse(frame.line) as Response | StreamEvent;
        if ('event' in message) {
          this.streams.get(message.id)?.(message);
          continue;
        }
        const response = message;
        const waiter = this.pending.get(response.id);
        this.pending.delete(response.id);
        if (!waiter) continue;
        if (response.ok) waiter.resolve(response.result);
        else waiter.reject(new SupervisorError(response.error.code, response.error.message, response.error.status));
      }
    });
    socket.on('close', () => {
      for (const w of this.pending.values()) w.reject(new SupervisorUnavailable('the supervisor closed the connection'));
      this.pending.clear();
    });
  }

  /** Connects, starting the supervisor first when `start` is set and none answers. */
  static async open(options: { start: boolean }): Promise<Connection> {
    const dir = ensureStateDir(stateDir());
    const path = socketPath(dir);
    let socket = await tryConnect(path);
    if (!socket && options.start) {
      startSupervisor(dir);
      for (const end = Date.now() + START_TIMEOUT_MS; !socket && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 50));
        socket = await tryConnect(path);
      }
      if (!socket) throw new SupervisorUnavailable(`the supervisor did not start; see ${join(dir, 'supervisor.log')}`);
    }
    if (!socket) throw new SupervisorUnavailable(`no supervisor is running for ${dir}`);
    return new Connection(socket);
  }

  /**
   * One request on a connection of its own (the supervisor started if need be), closed after.
   * With `trace`, the connect and the supervisor's steps (an answer's `trace`) are added to it.
   */
  static async ask<O extends Op>(op: O, args: Args<O>, trace?: Stopwatch): Promise<unknown> {
    const connection = await Connection.open({ start: true });
    trace?.mark('connect');
    try {
      const result = await connection.request(op, args);
      addRemote(trace, (result as { trace?: TraceStep[] } | null)?.trace);
      return result;
    } finally {
      connection.close();
    }
  }

  request<O extends Op>(op: O, args: Args<O>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id, op, ...args })}\n`);
    });
  }

  /**
   * Sends a request whose answer is a stream of events (a run): `onEvent` gets them until the
   * exit; the promise rejects if the supervisor refuses the request. Returns the request's id,
   * under which the caller sends input.
   */
  stream<O extends Op>(op: O, args: Args<O>, onEvent: (event: StreamEvent) => void): { id: number; refused: Promise<never> } {
    const id = this.nextId++;
    this.streams.set(id, onEvent);
    const refused = new Promise<never>((_, reject) => this.pending.set(id, { resolve: () => {}, reject }));
    this.socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id, op, ...args })}\n`);
    return { id, refused };
  }

  /** One message to a stream the supervisor answers nothing to (input, resize, …). */
  send<O extends Op>(op: O, args: Args<O>, id: number): void {
    if (this.socket.writable) this.socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id, op, ...args })}\n`);
  }

  /** Stops reading the supervisor's answers (the output has nowhere to go yet); it then waits too. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.socket.end();
  }
}
