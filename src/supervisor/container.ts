// A container: a named bundle of resources (SerenityOS's three) and the processes launched into it.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecRule, TableOp } from '../context-server/table.js';
import { Launch, type Started } from '../launcher/launch.js';
import { type IdMap, kernelMounts, type KernelMount, type LaunchPlan } from '../launcher/launch-plan.js';
import { type ContainerConfig, describeIdMap, hostnameProblem, outsideUserNamespace, type Publish } from '../protocol/config.js';
import { isFusejailError } from '../errors.js';
import type { PrivateNetwork } from '../launcher/private-network.js';
import type { IDisposable } from '../event.js';
import { canonicalPath } from '../protocol/canonical-path.js';
import type { ContainerEvent, ContainerInfo, ContainerStats, MountInfo, MountSpec, ProcessInfo, ProcessSpec, ResourceType, StreamEvent, Terminal } from '../protocol/messages.js';
import type { HostnameContext } from '../resources/hostname-context.js';
import { realSource, servedMount, tableOf } from '../resources/layout.js';
import { CgroupUnavailable, type ContainerCgroup, DEFAULT_MAX_PROCESSES, formatBytes, type Limits, type Usage } from '../resources/cgroup.js';
import { namespaceId, namespaceIds } from '../resources/namespace-ids.js';
import { userNamespaceMap } from '../resources/user-namespace.js';
import type { ScopedProcessList } from '../resources/scoped-process-list.js';
import type { VFSRootContext } from '../resources/vfs-root-context.js';
import { Refused } from './refused.js';
import { Stopwatch, type TraceStep } from '../trace.js';

type Held = VFSRootContext | ScopedProcessList | HostnameContext;

/** How a container gets its resources: new ones from the supervisor's lists, or existing ones by index. */
export interface ResourceMaker {
  /** `idmap`: served for containers in a user namespace with this map (null: without one). */
  vfsContext(table: readonly TableOp[], exec: ExecRule, kernelMounts: readonly KernelMount[], idmap: IdMap | null): Promise<VFSRootContext>;
  processList(): Promise<ScopedProcessList>;
  hostnameContext(name: string): Promise<HostnameContext>;
  /** unshare_attach: the live resource with this index (ENOENT when there is none). */
  existing<T extends ResourceType>(type: T, index: number): Held;
  /** The container no longer refers to it; the list removes it when no container does (SerenityOS's rules). */
  release(resource: Held): Promise<void>;
  /** Every live container (to find the host directories serving roots). */
  containers(): Container[];
  /** A private network (pasta) for the container named `name`. */
  privateNetwork(name: string, publish: readonly Publish[]): Promise<PrivateNetwork>;
  /** The cgroup of the container named `name`; `asked`: its process limit was asked for, not the default. */
  cgroup(name: string, limits: Limits, asked: boolean): ContainerCgroup;
}

/** Resources given by index (`--vfs-context N` …) instead of made new. */
export type Attach = Partial<Record<ResourceType, number>>;

/** How long `rm` waits for launchers to reap their killed payloads before killing them too. */
const LAUNCHER_GRACE_MS = 1500;

/** How many events `fusejail events` keeps per container (the oldest go first). */
export const MAX_EVENTS = 1000;

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

/** The container's cgroup: the limits it asks for, and the default process limit where the host can limit processes. */
function cgroupFor(maker: ResourceMaker, name: string, config: ContainerConfig): ContainerCgroup | undefined {
  const limits: Limits = {
    maxProcesses: config.maxProcesses ?? DEFAULT_MAX_PROCESSES,
    ...(config.memory !== undefined ? { memory: config.memory } : {}),
    ...(config.cpus !== undefined ? { cpus: config.cpus } : {}),
  };
  try {
    return maker.cgroup(name, limits, config.maxProcesses !== undefined);
  } catch (err) {
    // NOTE: a limit asked for and impossible is an error; the default is only what the host allows.
    if (err instanceof CgroupUnavailable && config.maxProcesses === undefined && config.memory === undefined && config.cpus === undefined) return undefined;
    throw err;
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
  private cgroup: ContainerCgroup | undefined;
  private network: PrivateNetwork | undefined;
  /** The host PID of its first process (whose namespaces `exec` joins when it has no process list). */
  private mainHostPid: number | undefined;

  private constructor(
    readonly name: string,
    private readonly config: ContainerConfig,
    private readonly command: string[],
    /** Detached containers stay, exited, until `rm`; others go when their first process ends. */
    private readonly detached: boolean,
    private readonly vfs: VFSRootContext,
    private readonly list: ScopedProcessList | undefined,
    private readonly uts: HostnameContext | undefined,
    private readonly maker: ResourceMaker,
    /** Told once the container has released everything and may be forgotten. */
    private readonly onGone: () => void,
  ) {
    const launches = vfs.onLaunch((e) =>
      this.record({ time: e.time, kind: e.allowed ? 'launch' : 'refused', path: e.path, hostPid: e.pid, uid: e.uid, ...(e.reason ? { reason: e.reason } : {}) }),
    );
    const lost = vfs.onLost((e) => this.record({ time: Date.now(), kind: 'root-lost', hostPid: e.pid, reason: `VFS root context ${vfs.index}: ${e.reason}` }));
    this.watching = { dispose: () => (launches.dispose(), lost.dispose()) };
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
    options: { name: string; config: ContainerConfig; process: ProcessSpec; terminal: Terminal | null; detached: boolean; attach: Attach; trace: Stopwatch },
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
    // NOTE: gathered before anything is made: a host without the range, or a user the map cannot hold, creates nothing.
    const idmap = config.userNamespace ? userNamespaceMap() : null;
    if (idmap) refuseOutside(options.process);
    try {
      const vfs = take(
        attach['vfs-context'] !== undefined
          ? (maker.existing('vfs-context', attach['vfs-context']) as VFSRootContext)
          : await maker.vfsContext(tableOf(config.layout), { jailed: config.jail, allow: config.execAllow ?? null }, kernelMounts(config.layout), idmap),
      );
      refuseMismatch(vfs, idmap);
      if (vfs.broken) throw new Refused('ENOTCONN', `VFS root context ${vfs.index} is broken: ${vfs.broken}`);
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
        container.cgroup = cgroupFor(maker, options.name, config);
        if (config.network.mode === 'private') container.network = await maker.privateNetwork(options.name, config.network.publish);
        container.base = {
          ...container.namespaces(),
          root: vfs.root,
          cgroups: container.cgroup?.paths ?? [],
          pidns: list?.namespacePath ?? null,
          utsns: uts?.path ?? null,
          hostname: null,
          mounts: vfs.kernelMounts,
          dev: await isDirectory(join(vfs.root, 'dev')),
          jail: config.jail,
          userns: idmap,
        };
        trace.mark('launch plan');
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

  /**
   * NOTE: the network and IPC namespaces belong to the process list (its init made them), so
   * containers on one list share them; a container without a list makes its own with its first
   * process, and `exec` joins that process's.
   */
  private namespaces(): Pick<LaunchPlan, 'netns' | 'new_net' | 'ipcns' | 'new_ipc'> {
    const net = this.config.network;
    let netns: string | null = null;
    if (net.mode === 'container') {
      const other = this.maker.containers().find((c) => c.name === net.name && c !== this);
      netns = other?.networkPath() ?? null;
      if (!netns) throw new Refused('ENOENT', `--net container:${net.name}: no running container ${net.name} with a network namespace of its own`);
      // NOTE: a network is shared only inside one process list, as its IPC namespace is: two
      // containers that cannot see each other's processes must not share sockets either.
      if (!this.list || other!.list !== this.list) {
        throw new Refused('EPERM', `--net container:${net.name}: ${net.name} and this container are not attached to one process list (attach both with --process-list N)`);
      }
    } else if (net.mode === 'none' && this.list) netns = this.list.networkPath;
    else if (net.mode === 'private') netns = this.network!.path;
    return {
      netns,
      new_net: net.mode === 'none' && !this.list,
      ipcns: this.list?.ipcPath ?? null,
      new_ipc: !this.list,
    };
  }

  /** The network namespace its processes are in, while it runs; null for the host's. */
  networkPath(): string | null {
    if (this.exitStatus !== undefined || this.released) return null;
    if (this.base?.netns) return this.base.netns;
    return this.base?.new_net && this.mainHostPid !== undefined ? `/proc/${this.mainHostPid}/ns/net` : null;
  }

  private get resources(): Held[] {
    return [this.vfs, ...(this.list ? [this.list] : []), ...(this.uts ? [this.uts] : [])];
  }

  /** Another process in this container's resources (`fusejail exec`). */
  exec(spec: ProcessSpec, terminal: Terminal | null, emit: Emit): Promise<{ started: Started; process: Launch }> {
    if (this.exitStatus !== undefined || this.released) throw new Refused('EINVAL', `container ${this.name} is not running`);
    if (this.vfs.broken) throw new Refused('ENOTCONN', `container ${this.name} cannot run anything: its root is gone (VFS root context ${this.vfs.index}: ${this.vfs.broken}); remove it with fusejail rm -f ${this.name}`);
    return this.launch(spec, terminal, emit, 'other');
  }

  private async launch(spec: ProcessSpec, terminal: Terminal | null, emit: Emit, role: 'main' | 'other'): Promise<{ started: Started; process: Launch }> {
    if (this.base.userns) refuseOutside(spec);
    // NOTE: without a process list, the first process made the network and IPC namespaces; the
    // others join them. Its user namespace is always joined (the launcher says why).
    const main = this.mainHostPid !== undefined ? `/proc/${this.mainHostPid}/ns` : undefined;
    const joined = role === 'other' && main ? {
      ...(this.base.new_net ? { netns: `${main}/net`, new_net: false } : {}),
      ...(this.base.new_ipc ? { ipcns: `${main}/ipc`, new_ipc: false } : {}),
      ...(this.base.userns ? { userns_path: `${main}/user` } : {}),
    } : {};
    const launch = new Launch({ ...this.base, ...joined, ...spec }, terminal ? { kind: 'pty', ...terminal } : { kind: 'pipes' });
    if (role === 'main') this.main = launch;
    for (const r of this.resources) r.attach();
    launch.onData((o) => emit({ event: 'data', stream: o.stream, data: o.data.toString('base64') }));
    // NOTE: a command that never started is answered by the error alone, not also by an exit;
    // one that started and ended at once reports its exit right after its start.
    let started: Started | undefined;
    let endedEarly: number | undefined;
    const oomKillsBefore = this.cgroup?.usage().oomKills ?? 0;
    const finish = async (status: number) => {
      if (started) this.processes.delete(started.hostPid);
      // NOTE: read before the cgroup goes with the container: a SIGKILL while the OOM killer's
      // count rose is the OOM killer's.
      const oom = status === 137 && (this.cgroup?.usage().oomKills ?? 0) > oomKillsBefore;
      const memory = this.cgroup?.limits.memory;
      const reason = oom ? `${this.name}: killed: out of memory${memory !== undefined ? ` (limit ${formatBytes(memory)})` : ''}` : undefined;
      if (started && oom) this.record({ time: Date.now(), kind: 'oom', hostPid: started.hostPid, ...(memory !== undefined ? { limit: memory } : {}) });
      if (started) this.record({ time: Date.now(), kind: 'exit', hostPid: started.hostPid, status });
      if (role === 'main') this.exitStatus = status;
      const released = role === 'main' && !this.detached ? await this.release() : undefined;
      emit({ event: 'exit', status, ...(reason ? { reason } : {}), ...(released ? { trace: released } : {}) });
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
    if (role === 'main') this.mainHostPid = started.hostPid;
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
    const limits = this.cgroup?.limits ?? {};
    // NOTE: a process list may hold its init (in the host's user namespace) and other containers' processes too.
    const ours = this.base.userns && this.mainHostPid !== undefined ? namespaceId(`/proc/${this.mainHostPid}/ns/user`) : undefined;
    return this.processList().map((p) => {
      const namespaces = namespaceIds(p.hostPid);
      return { ...p, namespaces, limits, ...(ours && namespaces.user === ours ? { userns: this.base.userns! } : {}) };
    });
  }

  private processList(): ProcessInfo[] {
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

  /** `stats`: what it uses now, against its limits. */
  stats(): ContainerStats {
    const usage: Usage = this.cgroup?.usage() ?? {};
    return { name: this.name, ...usage, limits: this.cgroup?.limits ?? {}, ...(this.cgroup ? { cgroup: { version: this.cgroup.version, controllers: this.cgroup.controllers } } : {}) };
  }

  info(): ContainerInfo {
    return {
      name: this.name,
      kind: 'fusejail',
      status: this.exitStatus === undefined ? 'running' : 'exited',
      ...(this.exitStatus !== undefined ? { exitStatus: this.exitStatus } : {}),
      command: this.command,
      jail: this.config.jail,
      root: this.vfs.root,
      ...(this.vfs.broken ? { broken: `VFS root context ${this.vfs.index}: ${this.vfs.broken}` } : {}),
      resources: {
        'vfs-context': this.vfs.index,
        ...(this.list ? { 'process-list': this.list.index } : {}),
        ...(this.uts ? { 'hostname-context': this.uts.index } : {}),
      },
      network: this.config.network.mode === 'container' ? `container:${this.config.network.name}` : this.config.network.mode,
      ...(this.config.network.mode === 'private' && this.config.network.publish.length > 0 ? { publish: this.config.network.publish.map((p) => `${p.host}:${p.container}/${p.protocol}`) } : {}),
      namespaces: this.exitStatus === undefined && this.mainHostPid !== undefined ? namespaceIds(this.mainHostPid) : {},
      ...(this.base?.userns ? { userns: this.base.userns } : {}),
      limits: this.cgroup?.limits ?? {},
    };
  }

  /** Its mount table, in order (the model its context server serves). */
  mounts(): MountInfo[] {
    return this.vfs.mountInfo();
  }

  /** `mount add`: checked here as well as by the CLI (a request may come from anyone). */
  async mountAdd(spec: MountSpec): Promise<void> {
    const target = canonicalOrRefuse('mount target', spec.target);
    if (spec.kind === 'ramfs') return this.vfs.addMount(servedMount({ op: 'mount', kind: 'ramfs', target, readOnly: false }));
    if (spec.kind !== 'bind') throw new Refused('EINVAL', `mount add takes a bind or a ramfs mount, not ${JSON.stringify((spec as { kind: unknown }).kind)}`);
    // NOTE: the real path, found here, where the user named it; the server then opens it without
    // following any symlink, so a link swapped in later fails instead of leading elsewhere.
    const given = canonicalOrRefuse('mount source', spec.source);
    if (!existsSync(given)) throw new Refused('ENOENT', `mount source ${JSON.stringify(spec.source)} does not exist on the host`);
    const writable = this.vfs.mountInfo().flatMap((m) => (m.type === 'bind' && !m.readOnly && m.source ? [m.source] : []));
    const source = realSource(given, writable);
    // NOTE: a server reading through another's root while that one reads through its own would
    // wait on each other forever; reaching into a root is what `mount copy` is for.
    const served = this.maker.containers().flatMap((c) => c.servedAt().map((dir) => ({ c, dir })));
    const inside = served.find(({ dir }) => source === dir || source.startsWith(`${dir}/`));
    if (inside) throw new Refused('EINVAL', `mount source ${source} is inside container ${inside.c.name}'s root; use fusejail mount copy`);
    const contains = this.servedAt().find((dir) => source === '/' || dir.startsWith(`${source}/`));
    if (contains) throw new Refused('EINVAL', `source ${source} contains the mountpoint ${contains}; serve it elsewhere`);
    await this.vfs.addMount(servedMount({ op: 'mount', kind: 'bind', source, target, readOnly: spec.readOnly }));
  }

  /** The host directories serving its root. */
  servedAt(): string[] {
    return this.vfs.servedAt();
  }

  async mountRm(target: string): Promise<void> {
    await this.vfs.removeMount(canonicalOrRefuse('mount target', target));
  }

  /**
   * SerenityOS's copy_mount: the same live files at `target` here. In one context, the server
   * mounts its own backend again; across contexts, the source's server resolves the path beneath
   * its root and holds it open, and this one's server opens that very descriptor: no host path is
   * ever resolved, and the files stay reachable here after the source container is gone.
   */
  async mountCopy(from: Container, path: string, target: string): Promise<void> {
    const at = canonicalOrRefuse('source path', path);
    const to = canonicalOrRefuse('target path', target);
    // NOTE: a copy of read-only files stays read-only.
    const holder = from.vfs.mountHolding(at);
    if (from.vfs === this.vfs) return this.vfs.addMount({ type: 'share', target: to, readOnly: holder.readOnly, from: at });
    const located = await from.vfs.locate(at).catch((err: unknown) => {
      throw isFusejailError(err) && err.code === 'ENOENT' ? new Refused('ENOENT', `"${at}" does not exist`) : err;
    });
    // NOTE: for people, a host bind's files are named by their host path; the server still reaches them by the descriptor.
    const inner = holder.target === '/' ? at : at.slice(holder.target.length);
    const source = holder.type === 'bind' ? holder.source + (inner === '/' ? '' : inner) : `${from.name}:${at}`;
    try {
      await this.vfs.addMount({ type: 'handle', target: to, readOnly: holder.readOnly, handle: located.handle, source });
    } finally {
      await from.vfs.unlocate(located.handle);
    }
  }

  /** `expose`: the same root served at another host directory too, until the container goes. */
  async expose(dir: string): Promise<string> {
    if (!dir.startsWith('/')) throw new Refused('EINVAL', `mountpoint ${JSON.stringify(dir)} must be absolute`);
    // NOTE: checked by name before anything touches it: a look at a directory a server serves
    // would be a request to that server (never answered if it is the one that looks).
    const ours = this.servedAt().find((s) => dir === s || dir.startsWith(`${s}/`));
    if (ours) throw new Refused('EBUSY', `mountpoint ${dir} is ${dir === ours ? 'already' : 'inside'} this root (served at ${ours})`);
    const real = await realpath(dir).catch(() => {
      throw new Refused('ENOENT', `mountpoint ${dir} does not exist`);
    });
    const entries = await readdir(real).catch(() => {
      throw new Refused('ENOTDIR', `mountpoint ${real} is not a directory`);
    });
    if (entries.length > 0) throw new Refused('ENOTEMPTY', `mountpoint ${real} is not empty`);
    await this.vfs.expose(real);
    return real;
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

  /** `rm`: refused while it runs, unless forced. */
  async remove(force: boolean, trace: Stopwatch): Promise<void> {
    if (this.exitStatus === undefined && !force) throw new Refused('EBUSY', `container ${this.name} is running; stop it first, or use rm -f`);
    await this.release(trace);
  }

  /**
   * Ends its processes and lets go of every resource, newest first (processes die with their
   * list). Once.
   */
  async release(trace = new Stopwatch()): Promise<TraceStep[]> {
    if (this.released) return [];
    this.released = true;
    this.watching.dispose();
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
    if (this.cgroup) {
      await this.cgroup.destroy();
      trace.mark('release: cgroup');
    }
    if (this.network) {
      await this.network.stop();
      trace.mark('release: network');
    }
    this.onGone();
    return trace.steps;
  }
}

/** A user namespace holds ids 0-65535 only: a user outside it is the caller's error, named. */
function refuseOutside(spec: ProcessSpec): void {
  const outside = outsideUserNamespace(spec.user);
  if (outside) throw new Refused('EINVAL', `user ${spec.user.uid}:${spec.user.gid}: ${outside} (a user namespace)`);
}

/**
 * NOTE: a root is served for one kind of container: with a user namespace its server shows the
 * mapped ids (host root's files as root inside), without one the host's; the other kind would
 * see every owner wrong. So a container attaches only to a root served for its kind.
 */
function refuseMismatch(vfs: VFSRootContext, idmap: IdMap | null): void {
  const what = (map: IdMap | null) => (map ? `a user namespace (${describeIdMap(map)})` : 'no user namespace');
  const same = vfs.idmap === idmap || (vfs.idmap && idmap && vfs.idmap.uid === idmap.uid && vfs.idmap.gid === idmap.gid && vfs.idmap.size === idmap.size);
  if (!same) throw new Refused('EINVAL', `VFS root context ${vfs.index} is served for containers with ${what(vfs.idmap)}; this container has ${what(idmap)}`);
}

function canonicalOrRefuse(what: string, path: string): string {
  const check = canonicalPath(path);
  if (!check.ok) throw new Refused('EINVAL', `${what} ${JSON.stringify(path)} is not an absolute canonical path (it ${check.reason})`);
  return check.path;
}
