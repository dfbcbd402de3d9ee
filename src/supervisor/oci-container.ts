// An OCI container: the VFS root context an OCI runtime's `create` asked for, and what is seen of its init.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDisposable } from '../event.js';
import type { ContainerEvent, ContainerInfo, MountInfo, OCICreate, OCIKey } from '../protocol/messages.js';
import { HostProcess } from '../resources/host-process.js';
import { realSource } from '../resources/layout.js';
import { namespaceIds } from '../resources/namespace-ids.js';
import type { VFSRootContext } from '../resources/vfs-root-context.js';
import { MAX_EVENTS, type ResourceMaker } from './container.js';
import { Refused } from './refused.js';

/** process.args of the bundle's config.json, for `ls` and the start event; [] when it cannot be read. */
function argsOf(bundle: string): string[] {
  try {
    const args = (JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process?: { args?: unknown } }).process?.args;
    return Array.isArray(args) && args.every((a) => typeof a === 'string') ? args : [];
  } catch {
    return [];
  }
}

/** The PID inside its own PID namespace (the last NSpid field), or the host PID when unreadable. */
function containerPidOf(pid: number): number {
  try {
    const nspid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s*(.*)$/m)?.[1]?.trim().split(/\s+/);
    return Number(nspid?.at(-1) ?? pid);
  } catch {
    return pid;
  }
}

/**
 * NOTE: the supervisor serves the root and keeps the records; it is not the parent of the init
 * (conmon or the shim must be, to learn its exit status), so it neither starts, signals nor reaps
 * it: the OCI runtime's verbs do. The runtime's state directory (<root>/<id>/) is what says
 * "created": its exec.fifo exists until `start`.
 */
export class OCIContainer {
  private init: HostProcess | undefined;
  private readonly events: ContainerEvent[] = [];
  private readonly watching: IDisposable[] = [];
  private released = false;

  private constructor(
    readonly name: string,
    readonly key: OCIKey,
    private readonly bundle: string,
    private readonly jail: boolean,
    private readonly vfs: VFSRootContext,
    private readonly command: string[],
    private readonly maker: ResourceMaker,
  ) {
    this.watching.push(
      vfs.onLaunch((e) => this.record({ time: e.time, kind: e.allowed ? 'launch' : 'refused', path: e.path, hostPid: e.pid, uid: e.uid, ...(e.reason ? { reason: e.reason } : {}) })),
      vfs.onLost((e) => this.record({ time: Date.now(), kind: 'root-lost', hostPid: e.pid, reason: `VFS root context ${vfs.index}: ${e.reason}` })),
    );
  }

  /** A VFS root context whose whole layout is one write-through bind of the rootfs at "/". */
  static async create(name: string, request: OCICreate, maker: ResourceMaker): Promise<OCIContainer> {
    const source = realSource(request.rootfs, []);
    const vfs = await maker.vfsContext([{ op: 'mount', mount: { type: 'bind', target: '/', readOnly: request.readonly, source } }], { jailed: request.jail, allow: null }, [], null);
    vfs.hold();
    return new OCIContainer(name, { root: request.root, id: request.id }, request.bundle, request.jail, vfs, argsOf(request.bundle), maker);
  }

  private record(event: ContainerEvent): void {
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }

  /** oci-started: its init exists now (waiting at the start barrier); the same PID again changes nothing. */
  started(pid: number): void {
    if (this.init?.pid === pid) return;
    if (this.init) throw new Refused('EBUSY', `OCI container ${this.name} was started already, with init pid ${this.init.pid}`);
    const init = HostProcess.find(pid);
    if (!init) throw new Refused('ENOENT', `pid ${pid}: no such process (the init of OCI container ${this.name})`);
    this.init = init;
    this.record({ time: Date.now(), kind: 'start', hostPid: pid, containerPid: containerPidOf(pid), command: this.command.join(' ') });
    this.watching.push(init.onEnd(() => this.record({ time: Date.now(), kind: 'ended', hostPid: pid })), init.watch());
  }

  private get status(): ContainerInfo['status'] {
    if (this.init?.alive === false) return 'exited';
    return existsSync(join(this.key.root, this.key.id, 'exec.fifo')) || !this.init ? 'created' : 'running';
  }

  info(): ContainerInfo {
    const alive = this.init?.alive === true;
    const net = alive ? namespaceIds(this.init!.pid).net : undefined;
    return {
      name: this.name,
      kind: 'oci',
      oci: { ...this.key, bundle: this.bundle, ...(this.init ? { pid: this.init.pid } : {}) },
      status: this.status,
      command: this.command,
      jail: this.jail,
      root: this.vfs.root,
      ...(this.vfs.broken ? { broken: `VFS root context ${this.vfs.index}: ${this.vfs.broken}` } : {}),
      resources: { 'vfs-context': this.vfs.index },
      // NOTE: config.json decides the network; here only whether it is the host's.
      network: net === undefined ? '-' : net === namespaceIds(process.pid).net ? 'host' : 'own',
      namespaces: alive ? namespaceIds(this.init!.pid) : {},
      limits: {},
    };
  }

  mounts(): MountInfo[] {
    return this.vfs.mountInfo();
  }

  eventLog(): ContainerEvent[] {
    return [...this.events];
  }

  servedAt(): string[] {
    return this.vfs.servedAt();
  }

  /** oci-delete: the root unmounted and the context released. Once. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const w of this.watching) w.dispose();
    await this.maker.release(this.vfs);
  }
}
