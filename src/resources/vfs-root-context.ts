// VFSRootContext: SerenityOS's mount table plus a root, held here as data and served by a context server.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ContextServer } from '../context-server/server.js';
import { ConfigInvalid, FusejailError } from '../errors.js';
import { mountedHere, unmount } from '../host/mounts.js';
import type { ExecRule, LaunchEvent, Located, ServedMount, TableOp } from '../context-server/table.js';
import { Emitter, type IEvent } from '../event.js';
import type { IdMap, KernelMount } from '../launcher/launch-plan.js';
import type { MountInfo } from '../protocol/messages.js';
import { describeIdMap } from '../protocol/config.js';
import { AttachCount } from './attach-count.js';
import { MountTable } from './mount-table.js';

export type { LaunchEvent, Located };

/** What people and scripts see of a mount (`fusejail mounts`): its kind and where its files come from. */
function infoOf(m: ServedMount): MountInfo {
  const base = { target: m.target, readOnly: m.readOnly };
  switch (m.type) {
    case 'bind':
    case 'copy':
      return { ...base, type: m.type, source: m.source };
    case 'handle':
      return { ...base, type: 'bind', source: m.source };
    case 'symlink':
      return { ...base, type: 'symlink', source: m.link };
    case 'share':
      return { ...base, type: 'shared', source: m.from };
    case 'mountpoint':
      return { ...base, type: m.fs === 'sysfs' ? 'sys' : m.fs };
    case 'ramfs':
      return { ...base, type: 'ramfs' };
  }
}

/**
 * NOTE: the model and its executor: the table lives here, in the supervisor; the context server
 * (one C process per context, native-bindings/context-server/) holds the same table resolved and
 * serves it over FUSE. An edit is checked here, carried out by the server (which invalidates the
 * kernel's caches for the names it changes), and only then recorded here.
 */
export class VFSRootContext extends AttachCount {
  private readonly table = new MountTable<ServedMount>();
  readonly onLaunch: IEvent<LaunchEvent>;
  private stopping = false;
  private lost: string | undefined;
  private readonly exposed: string[] = [];
  private readonly losses = new Emitter<{ pid: number; reason: string }>();
  /** Its server died on its own: every container on this root is broken (told once). */
  readonly onLost: IEvent<{ pid: number; reason: string }> = this.losses.event;

  private constructor(
    readonly index: number,
    /** The host directory serving the context's root. */
    readonly root: string,
    /** The kernel filesystems its layout asked for; every launch into it mounts them. */
    readonly kernelMounts: readonly KernelMount[],
    /** Served for containers in a user namespace with this map (its server shows their ids); null: for containers without one. */
    readonly idmap: IdMap | null,
    private readonly server: ContextServer,
    table: readonly TableOp[],
  ) {
    super();
    for (const op of table) if (op.op === 'mount') this.table.add(op.mount);
    this.onLaunch = server.onLaunch;
    void server.exited.then(() => {
      if (this.stopping) return;
      this.lost = `its server (pid ${server.pid}) exited; the root at ${root} is gone`;
      this.losses.fire({ pid: server.pid, reason: this.lost });
    });
  }

  /**
   * A new context is an empty RAMFS, as in SerenityOS, unless a layout says otherwise. Its server
   * is started, builds the table and mounts it at `<directory>/<index>/root` before this returns.
   */
  static async create(index: number, directory: string, options: { table: readonly TableOp[]; exec: ExecRule; kernelMounts: readonly KernelMount[]; idmap: IdMap | null }): Promise<VFSRootContext> {
    const root = join(directory, String(index), 'root');
    mkdirSync(root, { recursive: true, mode: 0o755 });
    const server = await ContextServer.start({ mountpoint: root, fsname: `fusejail:${root}`, table: options.table, exec: options.exec, ...(options.idmap ? { idmap: options.idmap } : {}) }).catch((err: unknown) => {
      // NOTE: a layout the server could not build (an errno) is the caller's error, with the server's code.
      if (err instanceof FusejailError && /^E[A-Z]+$/.test(err.code)) throw new ConfigInvalid(`VFS root context ${index}: ${err.message}`, { cause: err });
      throw err;
    });
    return new VFSRootContext(index, root, options.kernelMounts, options.idmap, server, options.table);
  }

  /** The table in order, as people and scripts see it (`fusejail mounts`). */
  mountInfo(): MountInfo[] {
    return this.table.entries.map(infoOf);
  }

  /** EBUSY when the target is taken (checked here first, as SerenityOS's VFS answers), then served at once. */
  async addMount(mount: ServedMount): Promise<void> {
    this.table.check(mount);
    await this.server.ask({ op: 'mount-add', mount });
    this.table.add(mount);
  }

  /** ENODEV when nothing is mounted there; the root stays (a context with no root has nothing to serve). */
  async removeMount(target: string): Promise<ServedMount> {
    const mount = this.table.find(target);
    await this.server.ask({ op: 'mount-rm', target });
    this.table.remove(target);
    return mount;
  }

  /** The mount holding `path` (the longest matching target; the root holds everything else). */
  mountHolding(path: string): ServedMount {
    return this.table.resolve(path)!.mount;
  }

  /**
   * SerenityOS's copy_mount, first half: `path` resolved by this context's server beneath its own
   * root (never on the host, where the container could swap it for a link), and held open.
   */
  async locate(path: string): Promise<Located> {
    return (await this.server.ask({ op: 'locate', path })) as Located;
  }

  async unlocate(handle: string): Promise<void> {
    await this.server.ask({ op: 'unlocate', handle });
  }

  /** The same root at another (real, empty) host directory too, until the context goes. */
  async expose(dir: string): Promise<void> {
    await this.server.ask({ op: 'expose', dir });
    this.exposed.push(dir);
  }

  /** The host directories serving its root. */
  servedAt(): string[] {
    return [this.root, ...this.exposed];
  }

  /** Why the context cannot be used, when its server has gone. */
  get broken(): string | undefined {
    return this.lost;
  }

  detail(): Record<string, string | number> {
    return { root: this.root, serverPid: this.server.pid, ...(this.idmap ? { userns: describeIdMap(this.idmap) } : {}), ...(this.broken ? { broken: this.broken } : {}) };
  }

  /** Stops its server; a server that died alone left its mounts behind (ENOTCONN), cleared here. */
  async destroy(): Promise<void> {
    this.stopping = true;
    await this.server.stop();
    for (const dir of this.servedAt().reverse()) if (mountedHere(dir)) await unmount(dir);
  }
}
