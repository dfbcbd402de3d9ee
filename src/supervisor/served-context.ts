// The supervisor's handle on a VFSRootContext: the child process serving it over FUSE.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FusejailError } from '../errors.js';
import type { KernelMount } from '../launcher/launch-plan.js';
import { Emitter, type IEvent } from '../event.js';
import { AttachCount } from '../resources/attach-count.js';
import type { LaunchEvent } from '../resources/vfs-root-context.js';
import type { ControlMessage, ControlRequest } from './control.js';

const serverProgram = fileURLToPath(new URL('./serve-context.js', import.meta.url));

export class ContextServerFailed extends FusejailError {
  constructor(message: string) {
    super('CONTEXT_SERVER_FAILED', message);
  }
}

type Ask = ControlRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** A server process started ahead of need, waiting (modules loaded) to be told what to serve. */
let spare: ChildProcess | undefined;

function startServer(): ChildProcess {
  const server = spawn(process.execPath, [serverProgram, '--spare'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  server.on('exit', () => spare === server && (spare = undefined));
  return server;
}

function takeSpare(): ChildProcess {
  const server = spare?.connected ? spare : startServer();
  spare = undefined;
  return server;
}

/** At the supervisor's start: the first run should not wait for a server either. */
export function prepareSpare(): void {
  spare ??= startServer();
}

/** At the supervisor's stop: the spare has nothing mounted and just goes. */
export function stopSpare(): void {
  spare?.kill('SIGTERM');
  spare = undefined;
}

export class ServedContext extends AttachCount {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private readonly launches = new Emitter<LaunchEvent>();
  /** Every launch its FUSE server saw (an open carrying the exec flag), allowed or refused. */
  readonly onLaunch: IEvent<LaunchEvent> = this.launches.event;

  private constructor(
    readonly index: number,
    /** The host directory serving the context's root. */
    readonly root: string,
    /** The kernel filesystems its layout asked for; every launch into it mounts them. */
    readonly kernelMounts: readonly KernelMount[],
    private readonly server: ChildProcess,
    private readonly exited: Promise<void>,
  ) {
    super();
    server.on('message', (m: ControlMessage) => {
      if ('event' in m) return m.event === 'launch' && this.launches.fire(m.launch);
      const waiter = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) waiter?.resolve(m.result);
      else waiter?.reject(new FusejailError(m.error.code, m.error.message));
    });
    void exited.then(() => {
      for (const w of this.pending.values()) w.reject(new ContextServerFailed(`the server of VFS root context ${index} exited`));
      this.pending.clear();
    });
  }

  /**
   * A new context is an empty RAMFS, as in SerenityOS, unless a container's config gives its
   * layout. NOTE: one process per context (DESIGN §2), tied to us by an IPC channel: when the
   * supervisor dies, the channel closes and the server unmounts and exits.
   */
  static async create(index: number, directory: string, config: Record<string, unknown>, kernelMounts: readonly KernelMount[]): Promise<ServedContext> {
    const dir = join(directory, String(index));
    const root = join(dir, 'root');
    mkdirSync(root, { recursive: true, mode: 0o755 });
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const server = takeSpare();
    server.send({ config: configFile, mountpoint: root });
    let stderr = '';
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => server.on('exit', () => resolve()));
    let failed: FusejailError | undefined;
    const onFailure = (m: ControlMessage) => {
      if ('event' in m && m.event === 'failed') failed = new FusejailError(m.error.code, `VFS root context ${index}: ${m.error.message}`);
    };
    server.on('message', onFailure);
    const ready = await new Promise<boolean>((resolve) => {
      server.stderr!.on('data', () => stderr.includes('serving') && resolve(true));
      void exited.then(() => resolve(false));
    });
    server.off('message', onFailure);
    // NOTE: a layout the server could not build is the caller's error, with the server's code.
    if (!ready) throw failed ?? new ContextServerFailed(`VFS root context ${index} could not be served: ${stderr.trim()}`);
    // NOTE: the next spare starts once this server is up, not competing with it for the CPU.
    prepareSpare();
    return new ServedContext(index, root, kernelMounts, server, exited);
  }

  /** One request to the server (see control.ts); a refusal comes back with the server's code. */
  ask(request: Ask): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.server.connected) return reject(new ContextServerFailed(`the server of VFS root context ${this.index} is gone`));
      this.pending.set(id, { resolve, reject });
      this.server.send({ ...request, id });
    });
  }

  detail(): Record<string, string | number> {
    return { root: this.root, serverPid: this.server.pid ?? 0 };
  }

  async destroy(): Promise<void> {
    this.server.kill('SIGTERM');
    await this.exited;
  }
}
