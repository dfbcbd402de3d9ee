// The supervisor's state: the three resource lists, and the answer to each request.
import { mkdirSync, readFileSync } from 'node:fs';
import { constants, hostname } from 'node:os';
import { join } from 'node:path';
import { isFusejailError } from '../errors.js';
import { randomBytes } from 'node:crypto';
import { LaunchFailed } from '../launcher/launch.js';
import { parseConfig } from '../protocol/config.js';
import { type ErrorReply, RESOURCE_TYPES, isResourceType, type Request, type ResourceInfo, type ResourceType, type StreamEvent } from '../protocol/messages.js';
import { changesState } from './changes-state.js';
import { type Attach, Container, type Emit, type ResourceMaker } from './container.js';
import { Refused } from './refused.js';
import type { Launch, Started } from '../launcher/launch.js';
import { HostnameContext } from '../resources/hostname-context.js';
import { ContainerCgroup } from '../resources/cgroup.js';
import { PrivateNetwork } from '../launcher/private-network.js';
import { ScopedProcessList } from '../resources/scoped-process-list.js';
import { tableOf } from '../resources/layout.js';
import { VFSRootContext } from '../resources/vfs-root-context.js';
import { type Resource, ResourceList } from './registry.js';
import { notForOCI, OCIContainers } from './oci-containers.js';
import { OCIContainer } from './oci-container.js';
import { Stopwatch } from '../trace.js';


export interface Peer {
  pid: number;
  uid: number;
}

export { Refused };

/**
 * NOTE: Linux has no jail flag to ask about. A process fusejail jailed has no capabilities left
 * to bound, no_new_privs set and a seccomp filter; any process in that state is treated as jailed
 * and, as in SerenityOS, may not create or attach to resources.
 */
export function isJailed(pid: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(\\S+)`, 'm'))?.[1];
  return field('NoNewPrivs') === '1' && field('Seccomp') === '2' && /^0+$/.test(field('CapBnd') ?? '');
}

export class Supervisor {
  private readonly lists: { [T in ResourceType]: ResourceList<Resource> } = {
    'process-list': new ResourceList<ScopedProcessList>(),
    'vfs-context': new ResourceList<VFSRootContext>(),
    'hostname-context': new ResourceList<HostnameContext>(),
  };

  private readonly containers = new Map<string, Container>();
  /** VFS root contexts made by `unshare create`: as in SerenityOS, they outlive their processes. */
  private readonly standing = new Set<Resource>();

  /** Containers whose roots OCI runtimes asked for (`oci-create`); their processes are not ours. */
  private readonly oci: OCIContainers;

  constructor(private readonly dir: string) {
    this.oci = new OCIContainers(this.maker, dir, (name) => this.containers.has(name));
  }

  private readonly maker: ResourceMaker = {
    vfsContext: (table, exec, kernelMounts, idmap) => this.lists['vfs-context'].create((i) => VFSRootContext.create(i, join(this.dir, 'vfs'), { table, exec, kernelMounts, idmap })) as Promise<VFSRootContext>,
    processList: () => this.lists['process-list'].create((i) => ScopedProcessList.create(i)) as Promise<ScopedProcessList>,
    hostnameContext: (name) => this.lists['hostname-context'].create((i) => HostnameContext.create(i, join(this.dir, 'ns'), name)) as Promise<HostnameContext>,
    existing: (type, index) => {
      const r = this.lists[type].forIndex(index);
      if (!r) throw new Refused('ENOENT', `no ${type} with index ${index} (see fusejail resources)`);
      return r as VFSRootContext | ScopedProcessList | HostnameContext;
    },
    // NOTE: a process list goes with its last member and a hostname context with its last process;
    // a container's members all end when it goes, so each goes with the last container using it.
    release: async (r) => {
      if (!r.release() || this.standing.has(r)) return;
      const type: ResourceType = r instanceof VFSRootContext ? 'vfs-context' : r instanceof ScopedProcessList ? 'process-list' : 'hostname-context';
      this.lists[type].remove(r.index);
      await r.destroy();
    },
    containers: () => [...this.containers.values()],
    cgroup: (name, limits, asked) => ContainerCgroup.create(this.dir, name, limits, { asked }),
    privateNetwork: (name, publish) => {
      mkdirSync(join(this.dir, 'ns'), { recursive: true, mode: 0o700 });
      return PrivateNetwork.start(join(this.dir, 'ns', `net-${name}`), publish);
    },
  };

  /** Starts a container for a run request; its events go to `emit` (under the request's id). */
  async run(request: Extract<Request, { op: 'run' }>, peer: Peer, emit: (event: StreamEvent) => void): Promise<{ started: Started & { name: string }; process: Launch }> {
    const trace = new Stopwatch();
    this.refuseJailed(peer, request);
    const config = parseConfig(JSON.stringify(request.config), 'run request');
    const name = request.name ?? randomBytes(4).toString('hex');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
      throw new Refused('EINVAL', `container name ${JSON.stringify(name)} must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`);
    }
    if (this.containers.has(name) || this.oci.named(name)) throw new Refused('EBUSY', `a container named ${name} already exists`);
    const attach = attachOf(request);
    trace.mark('supervisor: validation');
    const { container, started, process } = await Container.start(
      { name, config, process: request.process, terminal: request.terminal, detached: request.detach, attach, trace },
      this.maker,
      this.emitter(request.id, emit),
      () => this.containers.delete(name),
    );
    this.containers.set(name, container);
    return { started: { name, ...started, trace: trace.steps }, process };
  }

  /** Another process in a running container (`fusejail exec`), attached to its resources. */
  async exec(request: Extract<Request, { op: 'exec' }>, peer: Peer, emit: (event: StreamEvent) => void): Promise<{ started: Started & { name: string }; process: Launch }> {
    const trace = new Stopwatch();
    this.refuseJailed(peer, request);
    const container = this.container(request.container, 'exec');
    trace.mark('supervisor: validation');
    const { started, process } = await container.exec(request.process, request.terminal, this.emitter(request.id, emit));
    trace.add(started.trace);
    return { started: { ...started, name: container.name, trace: trace.steps }, process };
  }

  private emitter(id: number, emit: (event: StreamEvent) => void): Emit {
    return (e) => emit({ v: 1, id, ...e } as StreamEvent);
  }

  /** NOTE: as in SerenityOS, a jailed caller changes nothing; it may still look. */
  private refuseJailed(peer: Peer, request: Request): void {
    if (changesState(request) && isJailed(peer.pid)) throw new Refused('EPERM', `request "${request.op}": a jailed process (pid ${peer.pid}) may not change anything`);
  }

  /** A container (of either kind) by name, or by a unique prefix of it. */
  private named(name: string): Container | OCIContainer {
    const exact = this.containers.get(name) ?? this.oci.named(name);
    if (exact) return exact;
    const all = [...this.containers.values(), ...this.oci.all()];
    const matches = all.filter((c) => c.name.startsWith(name));
    if (matches.length === 1) return matches[0]!;
    throw new Refused('ENOENT', matches.length > 1 ? `container name ${JSON.stringify(name)} is ambiguous (${matches.map((c) => c.name).join(', ')})` : `no container named ${JSON.stringify(name)}`);
  }

  /** A `fusejail run` container, for a request (`op`) that only those answer. */
  private container(name: string, op = 'this request'): Container {
    const found = this.named(name);
    if (found instanceof OCIContainer) throw notForOCI(found, op);
    return found;
  }

  async handle(request: Request, peer: Peer): Promise<unknown> {
    this.refuseJailed(peer, request);
    if ('container' in request && !['events', 'mounts', 'root'].includes(request.op)) this.container(request.container, request.op);
    switch (request.op) {
      case 'create':
        return { index: (await this.create(request.type)).index };
      case 'resources':
        return this.resources();
      case 'ls':
        return [...this.containers.values(), ...this.oci.all()].map((c) => c.info());
      case 'ps':
        return this.container(request.container).ps();
      case 'kill':
        if (!(request.signal in constants.signals)) throw new Refused('EINVAL', `unknown signal ${JSON.stringify(request.signal)}`);
        this.container(request.container).kill(request.signal as NodeJS.Signals);
        return {};
      case 'rm': {
        const trace = new Stopwatch();
        const container = this.container(request.container);
        trace.mark('supervisor: validation');
        await container.remove(request.force, trace);
        return { trace: trace.steps };
      }
      case 'mounts':
        return this.named(request.container).mounts();
      case 'mount-add':
        await this.container(request.container).mountAdd(request.mount);
        return {};
      case 'mount-rm':
        await this.container(request.container).mountRm(request.target);
        return {};
      case 'mount-copy':
        await this.container(request.to.container).mountCopy(this.container(request.from.container), request.from.path, request.to.path);
        return {};
      case 'expose':
        return { dir: await this.container(request.container).expose(request.dir) };
      case 'events':
        return this.named(request.container).eventLog();
      case 'stats':
        return this.container(request.container).stats();
      case 'root':
        return { root: this.named(request.container).info().root };
      case 'oci-create':
        return this.oci.create(request);
      case 'oci-started':
        this.oci.started(request);
        return {};
      case 'oci-delete':
        await this.oci.delete(request);
        return {};
      case 'hostname':
        return { hostname: await this.container(request.container).hostname(request.set) };
      case 'run':
      case 'exec':
      case 'input':
      case 'eof':
      case 'resize':
      case 'signal':
        throw new Refused('EINVAL', `request: ${request.op} belongs to a run's connection`);
      case 'shutdown': {
        // NOTE: an OCI container's init runs on while its root would vanish under it (ENOTCONN),
        // and its caller (conmon, the shim) would not know why: stopping then is asked for by name.
        const oci = this.oci.all();
        if (oci.length > 0 && !request.force) {
          throw new Refused('EBUSY', `${oci.length} OCI container(s) still use roots served here (${oci.map((c) => c.name).join(', ')}); delete them with their OCI runtime first, or stop with --force, which unmounts their roots under them`);
        }
        // NOTE: the answer comes after the teardown, so `daemon --stop` returns with nothing left.
        await this.teardown();
        return {};
      }
    }
  }

  /** unshare_create: an empty root (which stays, as in SerenityOS), a list, or the host's name. */
  private async create(type: ResourceType): Promise<Resource> {
    switch (type) {
      case 'process-list':
        return this.maker.processList();
      case 'vfs-context': {
        // NOTE: as in SerenityOS, an empty RAMFS.
        const context = await this.maker.vfsContext(tableOf([]), { jailed: false, allow: null }, [], null);
        this.standing.add(context);
        return context;
      }
      case 'hostname-context':
        return this.maker.hostnameContext(hostname());
    }
  }

  resources(): ResourceInfo[] {
    return (Object.keys(this.lists) as ResourceType[]).flatMap((type) =>
      this.lists[type].all().map((r) => ({ type, typeNumber: RESOURCE_TYPES[type], index: r.index, users: r.users, detail: r.detail() })),
    );
  }

  /** Everything, in reverse order of dependence: processes first, then roots, then names. */
  async teardown(): Promise<void> {
    await this.oci.teardown();
    for (const c of this.containers.values()) await c.release();
    this.containers.clear();
    for (const type of ['process-list', 'vfs-context', 'hostname-context'] as const) {
      for (const r of this.lists[type].all()) {
        await r.destroy().catch((err: unknown) => process.stderr.write(`fusejail: cannot release ${type} ${r.index}: ${(err as Error).message}\n`));
        this.lists[type].remove(r.index);
        this.standing.delete(r);
      }
    }
  }
}

/** The resources a run attaches to by index; each must be a positive integer. */
function attachOf(request: Extract<Request, { op: 'run' }>): Attach {
  const attach: Attach = {};
  for (const [type, index] of Object.entries(request.attach ?? {})) {
    if (!isResourceType(type)) throw new Refused('EINVAL', `request: unknown resource type ${JSON.stringify(type)}`);
    if (!Number.isSafeInteger(index) || (index as number) < 1) throw new Refused('EINVAL', `${type} index ${JSON.stringify(index)} must be a positive integer`);
    attach[type] = index as number;
  }
  return attach;
}

export function errorReply(err: unknown): ErrorReply {
  if (err instanceof LaunchFailed) return { code: err.code, message: err.message, status: err.exitStatus };
  if (isFusejailError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: (err as Error)?.stack ?? String(err) };
}
