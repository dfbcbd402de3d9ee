// A container: a named bundle of resources (SerenityOS's three) and the processes launched into it.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Launch, type Started } from '../launcher/launch.js';
import type { LaunchPlan } from '../launcher/launch-plan.js';
import { type ContainerConfig, hostnameProblem } from '../protocol/config.js';
import type { ContainerInfo, MountInfo, ProcessInfo, ProcessSpec, StreamEvent, Terminal } from '../protocol/messages.js';
import type { HostnameContext } from '../resources/hostname-context.js';
import type { ScopedProcessList } from '../resources/scoped-process-list.js';
import { Refused } from './refused.js';
import type { ServedContext } from './served-context.js';

type Held = ServedContext | ScopedProcessList | HostnameContext;

/** How a container gets its resources: each one new, made by the supervisor's lists. */
export interface ResourceMaker {
  vfsContext(config: Record<string, unknown>): Promise<ServedContext>;
  processList(): Promise<ScopedProcessList>;
  hostnameContext(name: string): Promise<HostnameContext>;
  /** Removes a resource from its list and releases it. */
  release(resource: Held): Promise<void>;
}

export type Emit = (event: StreamEvent extends infer E ? (E extends { event: string } ? Omit<E, 'v' | 'id'> : never) : never) => void;

// NOTE: the launcher mounts kernel filesystems over directories of the root; where the layout
// has none, that part is simply not mounted.
async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export class Container {
  private readonly processes = new Map<number, { launch: Launch; containerPid: number; argv: string[] }>();
  private main: Launch | undefined;
  private exitStatus: number | undefined;
  private released = false;
  private base!: Omit<LaunchPlan, 'argv' | 'env' | 'cwd' | 'user'>;

  private constructor(
    readonly name: string,
    private readonly config: ContainerConfig,
    private readonly command: string[],
    /** Detached containers stay, exited, until `rm`; others go when their first process ends. */
    private readonly detached: boolean,
    private readonly vfs: ServedContext,
    private readonly list: ScopedProcessList | undefined,
    private readonly uts: HostnameContext | undefined,
    private readonly maker: ResourceMaker,
    /** Told once the container has released everything and may be forgotten. */
    private readonly onGone: () => void,
  ) {}

  /**
   * Gathers, then deploys, then undoes everything if any step fails. NOTE: the order: the root
   * first (it is what the others are for), then the process list, then the hostname context.
   */
  static async start(
    options: { name: string; config: ContainerConfig; raw: Record<string, unknown>; process: ProcessSpec; terminal: Terminal | null; detached: boolean },
    maker: ResourceMaker,
    emit: Emit,
    onGone: () => void,
  ): Promise<{ container: Container; started: Started; process: Launch }> {
    const held: Held[] = [];
    try {
      const vfs = await maker.vfsContext(options.raw);
      held.push(vfs);
      const list = options.config.pidIsolation ? await maker.processList() : undefined;
      if (list) held.push(list);
      const uts = options.config.hostname !== null ? await maker.hostnameContext(options.config.hostname) : undefined;
      if (uts) held.push(uts);
      const container = new Container(options.name, options.config, options.process.argv, options.detached, vfs, list, uts, maker, onGone);
      container.base = {
        root: vfs.root,
        pidns: list?.namespacePath ?? null,
        utsns: uts?.path ?? null,
        hostname: null,
        proc: await isDirectory(join(vfs.root, 'proc')),
        dev: await isDirectory(join(vfs.root, 'dev')),
        jail: options.config.jail,
      };
      held.length = 0;
      try {
        const { started, process } = await container.launch(options.process, options.terminal, emit, 'main');
        return { container, started, process };
      } catch (err) {
        await container.release();
        throw err;
      }
    } catch (err) {
      while (held.length > 0) await maker.release(held.pop()!);
      throw err;
    }
  }

  private get resources(): Held[] {
    return [this.vfs, ...(this.list ? [this.list] : []), ...(this.uts ? [this.uts] : [])];
  }

  /** Another process in this container's resources (`fusejail exec`). */
  exec(spec: ProcessSpec, terminal: Terminal | null, emit: Emit): Promise<{ started: Started; process: Launch }> {
    if (this.exitStatus !== undefined || this.released) throw new Refused('EINVAL', `container ${this.name} is not running`);
    return this.launch(spec, terminal, emit, 'other');
  }

  private async launch(spec: ProcessSpec, terminal: Terminal | null, emit: Emit, role: 'main' | 'other'): Promise<{ started: Started; process: Launch }> {
    const launch = new Launch({ ...this.base, ...spec }, terminal ? { kind: 'pty', ...terminal } : { kind: 'pipes' });
    if (role === 'main') this.main = launch;
    for (const r of this.resources) r.attach();
    launch.onData((o) => emit({ event: 'data', stream: o.stream, data: o.data.toString('base64') }));
    // NOTE: a command that never started is answered by the error alone, not also by an exit;
    // one that started and ended at once reports its exit right after its start.
    let started: Started | undefined;
    let ended: number | undefined;
    const finish = async (status: number) => {
      if (started) this.processes.delete(started.hostPid);
      if (role === 'main') this.exitStatus = status;
      if (role === 'main' && !this.detached) await this.release();
      emit({ event: 'exit', status });
    };
    launch.onExit((status) => {
      for (const r of this.resources) r.detach();
      if (started) void finish(status);
      else ended = status;
    });
    started = await launch.started;
    this.processes.set(started.hostPid, { launch, containerPid: started.containerPid, argv: spec.argv });
    if (ended !== undefined) void finish(ended);
    return { started, process: launch };
  }

  /** Signals the container's first process (the launcher relays it). */
  kill(signal: NodeJS.Signals): void {
    if (!this.main || this.exitStatus !== undefined) throw new Refused('EINVAL', `container ${this.name} is not running`);
    this.main.kill(signal);
  }

  /**
   * Every process on the container's process list, as the kernel knows it: found through /proc by
   * its PID namespace, with the PID it has inside. Without a list, the processes fusejail launched.
   */
  ps(): ProcessInfo[] {
    const command = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        return '';
      }
    };
    if (!this.list) return [...this.processes].map(([hostPid, p]) => ({ hostPid, containerPid: p.containerPid, command: command(hostPid) || p.argv.join(' ') }));
    const ns = readlinkSync(this.list.namespacePath);
    const out: ProcessInfo[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/pid`) !== ns) continue;
        const nspid = readFileSync(`/proc/${entry}/status`, 'utf8').match(/^NSpid:\s*(.*)$/m)?.[1]?.trim().split(/\s+/);
        out.push({ hostPid: Number(entry), containerPid: Number(nspid?.at(-1)), command: command(Number(entry)) });
      } catch {
        // NOTE: it exited while we looked.
      }
    }
    return out.sort((a, b) => a.containerPid - b.containerPid);
  }

  info(): ContainerInfo {
    return {
      name: this.name,
      status: this.exitStatus === undefined ? 'running' : 'exited',
      ...(this.exitStatus !== undefined ? { exitStatus: this.exitStatus } : {}),
      command: this.command,
      jail: this.config.jail,
      root: this.vfs.root,
      resources: {
        'vfs-context': this.vfs.index,
        ...(this.list ? { 'process-list': this.list.index } : {}),
        ...(this.uts ? { 'hostname-context': this.uts.index } : {}),
      },
    };
  }

  /** Its mount table: the root, then the layout's mounts in order (DESIGN §3). */
  mounts(): MountInfo[] {
    const out: MountInfo[] = [];
    const root = this.config.layout[0];
    out.push(root?.op === 'root' && root.kind === 'bind' ? { target: '/', type: 'bind', source: root.source, readOnly: root.readOnly } : { target: '/', type: 'ramfs', readOnly: false });
    for (const op of this.config.layout) {
      if (op.op === 'copy') out.push({ target: op.target, type: 'copy', source: op.source, readOnly: false });
      else if (op.op === 'symlink') out.push({ target: op.path, type: 'symlink', source: op.target, readOnly: true });
      else if (op.op === 'mount') out.push({ target: op.target, type: op.kind, ...(op.kind === 'bind' ? { source: op.source } : {}), readOnly: op.readOnly });
    }
    return out;
  }

  /** Its hostname context's name, or sets it (the supervisor may, though the container is jailed). */
  hostname(name?: string): Promise<string> {
    if (!this.uts) throw new Refused('ENOENT', `container ${this.name} has no hostname context of its own (it shares the host's)`);
    if (name !== undefined) {
      const problem = hostnameProblem(name);
      if (problem) throw new Refused('EINVAL', `hostname ${JSON.stringify(name)} ${problem}`);
    }
    return this.uts.hostname(name);
  }

  /** `rm`: refused while it runs unless forced; then everything goes. */
  async remove(force: boolean): Promise<void> {
    if (this.exitStatus === undefined && !force) throw new Refused('EBUSY', `container ${this.name} is running; stop it first, or use rm -f`);
    await this.release();
  }

  /** Releases every resource, newest first (processes die with their list); once. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const p of this.processes.values()) p.launch.kill('SIGKILL');
    for (const r of this.resources.reverse()) await this.maker.release(r);
    this.onGone();
  }
}
