// A container: a named bundle of resources (SerenityOS's three) and the processes launched into it.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Launch, type Started } from '../launcher/launch.js';
import { kernelMounts, type KernelMount, type LaunchPlan } from '../launcher/launch-plan.js';
import { type ContainerConfig, hostnameProblem } from '../protocol/config.js';
import type { IDisposable } from '../event.js';
import { canonicalPath } from '../protocol/canonical-path.js';
import type { ContainerEvent, ContainerInfo, MountInfo, MountSpec, ProcessInfo, ProcessSpec, ResourceType, StreamEvent, Terminal } from '../protocol/messages.js';
import type { HostnameContext } from '../resources/hostname-context.js';
import type { PidsLimit } from '../resources/pids-limit.js';
import type { ScopedProcessList } from '../resources/scoped-process-list.js';
import { Refused } from './refused.js';
import { Stopwatch, type TraceStep } from '../trace.js';
import type { Located } from './control.js';
import type { ServedContext } from './served-context.js';

type Held = ServedContext | ScopedProcessList | HostnameContext;

/** How a container gets its resources: new ones from the supervisor's lists, or existing ones by index. */
export interface ResourceMaker {
  vfsContext(config: Record<string, unknown>, kernelMounts: readonly KernelMount[]): Promise<ServedContext>;
  processList(): Promise<ScopedProcessList>;
  hostnameContext(name: string): Promise<HostnameContext>;
  /** unshare_attach: the live resource with this index (ENOENT when there is none). */
  existing<T extends ResourceType>(type: T, index: number): Held;
  /** The container no longer refers to it; the list removes it when no container does (SerenityOS's rules). */
  release(resource: Held): Promise<void>;
  /** Every live container (to find who borrowed from whom). */
  containers(): Container[];
  /** A process limit for the container named `name`. */
  pidsLimit(name: string, max: number): PidsLimit;
}

/** Resources given by index (`--vfs-context N` …) instead of made new. */
export type Attach = Partial<Record<ResourceType, number>>;

/** How long `rm` waits for launchers to reap their killed payloads before killing them too. */
const LAUNCHER_GRACE_MS = 1500;

/** How many events `fusejail events` keeps per container (the oldest go first). */
const MAX_EVENTS = 1000;

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
  private readonly processes = new Map<number, { launch: Launch; containerPid: number; argv: string[]; ended: Promise<void> }>();
  private main: Launch | undefined;
  private exitStatus: number | undefined;
  private released = false;
  private base!: Omit<LaunchPlan, 'argv' | 'env' | 'cwd' | 'user'>;
  private readonly events: ContainerEvent[] = [];
  private readonly watching: IDisposable;
  /** Mounts in other containers that reach this one's root through the host (mount copy). */
  private readonly lent = new Set<{ borrower: Container; target: string }>();
  private limit: PidsLimit | undefined;
  private readonly exposed: string[] = [];

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
  ) {
    this.watching = vfs.onLaunch((e) =>
      this.record({ time: e.time, kind: e.allowed ? 'launch' : 'refused', path: e.path, hostPid: e.pid, uid: e.uid, ...(e.reason ? { reason: e.reason } : {}) }),
    );
  }

  private record(event: ContainerEvent): void {
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }

  /**
   * Gathers, then deploys, then undoes everything if any step fails. NOTE: the order: the root
   * first (it is what the others are for), then the process list, then the hostname context.
   */
  static async start(
    options: { name: string; config: ContainerConfig; raw: Record<string, unknown>; process: ProcessSpec; terminal: Terminal | null; detached: boolean; attach: Attach; trace: Stopwatch },
    maker: ResourceMaker,
    emit: Emit,
    onGone: () => void,
  ): Promise<{ container: Container; started: Started; process: Launch }> {
    const held: Held[] = [];
    const take = <R extends Held>(r: R): R => {
      r.hold();
      held.push(r);
      return r;
    };
    const { attach, config, trace } = options;
    try {
      const vfs = take(attach['vfs-context'] !== undefined ? (maker.existing('vfs-context', attach['vfs-context']) as ServedContext) : await maker.vfsContext(options.raw, kernelMounts(config.layout)));
      if (config.jail && vfs.kernelMounts.some((m) => m.fs === 'sysfs')) {
        throw new Refused('EPERM', `VFS root context ${vfs.index} has a SysFS mount, which a jailed container is refused`);
      }
      trace.mark(attach['vfs-context'] !== undefined ? 'vfs-context (attached)' : 'vfs-context');
      const list =
        attach['process-list'] !== undefined
          ? take(maker.existing('process-list', attach['process-list']) as ScopedProcessList)
          : config.pidIsolation
            ? take(await maker.processList())
            : undefined;
      if (list) trace.mark(attach['process-list'] !== undefined ? 'process-list (attached)' : 'process-list');
      const uts =
        attach['hostname-context'] !== undefined
          ? take(maker.existing('hostname-context', attach['hostname-context']) as HostnameContext)
          : config.hostname !== null
            ? take(await maker.hostnameContext(config.hostname))
            : undefined;
      if (uts) trace.mark(attach['hostname-context'] !== undefined ? 'hostname-context (attached)' : 'hostname-context');
      const container = new Container(options.name, config, options.process.argv, options.detached, vfs, list, uts, maker, onGone);
      held.length = 0;
      // NOTE: from here the container owns its resources; its release undoes everything.
      try {
        container.limit = config.maxProcesses !== undefined ? maker.pidsLimit(options.name, config.maxProcesses) : undefined;
        container.base = {
          root: vfs.root,
          cgroup: container.limit?.path ?? null,
          pidns: list?.namespacePath ?? null,
          utsns: uts?.path ?? null,
          hostname: null,
          mounts: vfs.kernelMounts,
          dev: await isDirectory(join(vfs.root, 'dev')),
          jail: config.jail,
        };
        trace.mark(container.limit ? 'process limit' : 'launch plan');
        const { started, process } = await container.launch(options.process, options.terminal, emit, 'main');
        trace.add(started.trace);
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
    let endedEarly: number | undefined;
    const finish = async (status: number) => {
      if (started) this.processes.delete(started.hostPid);
      if (started) this.record({ time: Date.now(), kind: 'exit', hostPid: started.hostPid, status });
      if (role === 'main') this.exitStatus = status;
      const released = role === 'main' && !this.detached ? await this.release() : undefined;
      emit({ event: 'exit', status, ...(released ? { trace: released } : {}) });
    };
    let gone!: () => void;
    const ended = new Promise<void>((resolve) => (gone = resolve));
    launch.onExit((status) => {
      for (const r of this.resources) r.detach();
      if (started) void finish(status);
      else endedEarly = status;
      gone();
    });
    started = await launch.started;
    this.processes.set(started.hostPid, { launch, containerPid: started.containerPid, argv: spec.argv, ended });
    this.record({ time: Date.now(), kind: 'start', hostPid: started.hostPid, containerPid: started.containerPid, command: spec.argv.join(' ') });
    // NOTE: after the caller has sent its "started" event (within this tick's promise jobs).
    if (endedEarly !== undefined) setImmediate(() => void finish(endedEarly!));
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
        const status = readFileSync(`/proc/${entry}/status`, 'utf8');
        // NOTE: a zombie has ended; its init reaps it at once, so it is not listed.
        if (/^State:\s*Z/m.test(status)) continue;
        const nspid = status.match(/^NSpid:\s*(.*)$/m)?.[1]?.trim().split(/\s+/);
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

  /** Its live mount table, in order, as its FUSE server holds it. */
  async mounts(): Promise<MountInfo[]> {
    return (await this.vfs.ask({ op: 'mounts' })) as MountInfo[];
  }

  /** `mount add`: checked here as well as by the CLI (a request may come from anyone). */
  async mountAdd(spec: MountSpec): Promise<void> {
    const target = canonicalOrRefuse('mount target', spec.target);
    if (spec.kind === 'ramfs') return void (await this.vfs.ask({ op: 'mount-add', mount: { op: 'mount', kind: 'ramfs', target, readOnly: false } }));
    if (spec.kind !== 'bind') throw new Refused('EINVAL', `mount add takes a bind or a ramfs mount, not ${JSON.stringify((spec as { kind: unknown }).kind)}`);
    // NOTE: the real path, found here (never by the server, which could be asked to walk into its own mount).
    const source = await realpath(canonicalOrRefuse('mount source', spec.source)).catch(() => {
      throw new Refused('ENOENT', `mount source ${JSON.stringify(spec.source)} does not exist on the host`);
    });
    // NOTE: a server reading through another's root while that one reads through its own would
    // wait on each other forever; reaching into a root is what `mount copy` is for.
    const served = this.maker.containers().flatMap((c) => c.servedAt().map((dir) => ({ c, dir })));
    const inside = served.find(({ dir }) => source === dir || source.startsWith(`${dir}/`));
    if (inside) throw new Refused('EINVAL', `mount source ${source} is inside container ${inside.c.name}'s root; use fusejail mount copy`);
    await this.vfs.ask({ op: 'mount-add', mount: { op: 'mount', kind: 'bind', source, target, readOnly: spec.readOnly } });
  }

  /** The host directories serving its root. */
  servedAt(): string[] {
    return [this.vfs.root, ...this.exposed];
  }

  /** True when its root reaches, through mount copies, into `other`'s. */
  private reaches(other: Container, seen = new Set<Container>()): boolean {
    for (const source of this.borrowed()) {
      if (source === other || (!seen.has(source) && (seen.add(source), source.reaches(other, seen)))) return true;
    }
    return false;
  }

  async mountRm(target: string): Promise<void> {
    await this.vfs.ask({ op: 'mount-rm', target: canonicalOrRefuse('mount target', target) });
    this.returnBorrowed(target);
  }

  /** The containers whose files this one mounts (at `target`, or anywhere). */
  private borrowed(target?: string): Container[] {
    return this.maker.containers().filter((c) => [...c.lent].some((l) => l.borrower === this && (target === undefined || l.target === target)));
  }

  /** Those containers no longer lend to this one (at `target`, or anywhere). */
  private returnBorrowed(target?: string): void {
    for (const source of this.borrowed(target)) {
      for (const l of source.lent) if (l.borrower === this && (target === undefined || l.target === target)) source.lent.delete(l);
    }
  }

  /**
   * SerenityOS's copy_mount: the same live files at `target` here. In one context, the backend
   * itself is mounted again; across contexts, a host bind source is bound directly, and anything
   * else is reached through this source container's root, which then cannot be removed first.
   */
  async mountCopy(from: Container, path: string, target: string): Promise<void> {
    const at = canonicalOrRefuse('source path', path);
    const to = canonicalOrRefuse('target path', target);
    if (from.vfs === this.vfs) return void (await this.vfs.ask({ op: 'mount-share', from: at, target: to }));
    const { mount, inner } = (await from.vfs.ask({ op: 'locate', path: at })) as Located;
    const direct = mount.type === 'bind';
    if (!direct && from.reaches(this)) throw new Refused('EINVAL', `container ${from.name} already reaches into ${this.name}'s root; a mount copy both ways would deadlock their servers`);
    const source = direct ? (inner === '/' ? mount.source! : mount.source! + inner) : join(from.vfs.root, at);
    await this.vfs.ask({ op: 'mount-add', mount: { op: 'mount', kind: 'bind', source, target: to, readOnly: mount.readOnly } });
    if (!direct) from.lent.add({ borrower: this, target: to });
  }

  /** `expose`: the same root served at another host directory too, until the container goes. */
  async expose(dir: string): Promise<string> {
    if (!dir.startsWith('/')) throw new Refused('EINVAL', `mountpoint ${JSON.stringify(dir)} must be absolute`);
    // NOTE: resolved here, never by the server (see mountAdd).
    const real = await realpath(dir).catch(() => {
      throw new Refused('ENOENT', `mountpoint ${dir} does not exist`);
    });
    const exposed = ((await this.vfs.ask({ op: 'expose', dir: real })) as { dir: string }).dir;
    this.exposed.push(exposed);
    return exposed;
  }

  /** What it ran, and every launch its root saw, oldest first (the last 1000). */
  eventLog(): ContainerEvent[] {
    return [...this.events];
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

  /** `rm`: refused while it runs, or while another container mounts its files, unless forced. */
  async remove(force: boolean, trace: Stopwatch): Promise<void> {
    if (this.exitStatus === undefined && !force) throw new Refused('EBUSY', `container ${this.name} is running; stop it first, or use rm -f`);
    const lent = [...this.lent][0];
    if (lent && !force) {
      throw new Refused('EBUSY', `container ${this.name}'s files are mounted in ${lent.borrower.name} at ${lent.target} (mount copy); run: fusejail mount rm ${lent.borrower.name} ${lent.target}, or use rm -f`);
    }
    await this.release(trace);
  }

  /**
   * Ends its processes and lets go of every resource, newest first (processes die with their
   * list); mounts other containers made of its files go first. Once.
   */
  async release(trace = new Stopwatch()): Promise<TraceStep[]> {
    if (this.released) return [];
    this.released = true;
    this.watching.dispose();
    for (const { borrower, target } of this.lent) await borrower.vfs.ask({ op: 'mount-rm', target }).catch(() => {});
    this.lent.clear();
    this.returnBorrowed();
    trace.mark('release: mount copies');
    // NOTE: a process list may be shared with other containers, so this one's processes are
    // killed one by one: each payload and its process group; then awaited, so that attach counts
    // are right when the resources are let go. Each launcher reaps its payload and exits. Killed
    // first, it would leave the payload's zombie to the host's init (its parent is outside the
    // PID namespace), which may reap it only seconds later, and until then the namespace cannot
    // end: that was `rm -f`'s 1.4-1.7 s (issue 11). A launcher still there after a grace is killed.
    const launches = [...this.processes.values()];
    for (const [hostPid, p] of this.processes) {
      p.launch.resume();
      for (const target of [-hostPid, hostPid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {}
      }
    }
    const allEnded = Promise.all(launches.map((p) => p.ended));
    const within = (ms: number) => Promise.race([allEnded.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (!(await within(LAUNCHER_GRACE_MS))) {
      for (const p of launches) p.launch.kill('SIGKILL');
      await within(5000);
    }
    trace.mark('release: processes');
    for (const r of this.resources.reverse()) {
      await this.maker.release(r);
      trace.mark(`release: ${r === this.vfs ? 'vfs-context' : r === this.list ? 'process-list' : 'hostname-context'} ${r.index}`);
    }
    if (this.limit) {
      await this.limit.destroy();
      trace.mark('release: process limit');
    }
    this.onGone();
    return trace.steps;
  }
}

function canonicalOrRefuse(what: string, path: string): string {
  const check = canonicalPath(path);
  if (!check.ok) throw new Refused('EINVAL', `${what} ${JSON.stringify(path)} is not an absolute canonical path (it ${check.reason})`);
  return check.path;
}
