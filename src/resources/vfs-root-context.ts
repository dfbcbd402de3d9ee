// VFSRootContext: a mount table plus a root, served as one filesystem (SerenityOS's VFS root context).
import { MountTableError } from '../errors.js';
import { Emitter, type IEvent } from '../event.js';
import type { MountInfo } from '../protocol/messages.js';
import { E, FsError, fail } from '../fuse/errno.js';
import { CompositeTree } from '../fuse/open-files.js';
import {
  type Caller,
  type DirEntries,
  type FileTree,
  FMODE_EXEC,
  O_ACCMODE,
  O_TRUNC,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
  type Stat,
  type StatFs,
} from '../fuse/file-tree.js';
import { Ramfs } from '../fuse/ramfs.js';
import { ExecPolicy } from './exec-policy.js';
import { type Mount, MountTable } from './mount-table.js';

export type Backend = FileTree;

const NAME_MAX = 255;

export interface LaunchEvent {
  time: number;
  path: string;
  pid: number;
  uid: number;
  allowed: boolean;
  reason?: string;
}

export class VFSRootContext extends CompositeTree implements FileTree {
  private readonly table = new MountTable<Backend>();
  private readonly created = Date.now();
  private readonly hidden = new Set<string>();
  private readonly launches = new Emitter<LaunchEvent>();
  readonly onLaunch: IEvent<LaunchEvent> = this.launches.event;

  private constructor(
    readonly id: number,
    private readonly policy: ExecPolicy,
  ) {
    super();
  }

  /** A new context is an empty RAMFS root unless `root` is given, as in SerenityOS. */
  static create(id: number, options: { root?: Mount<Backend>; policy?: ExecPolicy } = {}): VFSRootContext {
    const context = new VFSRootContext(id, options.policy ?? new ExecPolicy({ jailed: false }));
    context.table.add(options.root ?? { target: '/', backend: new Ramfs(), readOnly: false, origin: { type: 'ramfs' } });
    return context;
  }

  /**
   * Makes `path` not exist in this context, whatever its backend holds (the default hides host
   * secrets under a read-only /etc this way).
   */
  hide(path: string): void {
    this.hidden.add(path);
  }

  get mounts(): readonly Mount<Backend>[] {
    return this.table.entries;
  }

  /** The table in order, as people and scripts see it (`fusejail mounts`). */
  mountInfo(): MountInfo[] {
    return this.table.entries.map((m) => ({ target: m.target, type: m.origin?.type ?? 'ramfs', ...(m.origin?.source !== undefined ? { source: m.origin.source } : {}), readOnly: m.readOnly }));
  }

  /**
   * Edits apply at once: the next lookup through the FUSE mount sees the new table (a name the
   * kernel already looked up may be cached for the server's entry timeout).
   */
  addMount(mount: Mount<Backend>): void {
    this.table.add(mount);
  }

  /** NOTE: the root stays: a context whose root is gone would have nothing to serve. */
  removeMount(target: string): Mount<Backend> {
    if (target === '/' && this.table.entries.some((m) => m.target === '/')) {
      throw new MountTableError('EBUSY', 'the root mount "/" cannot be removed from a context in use');
    }
    return this.table.remove(target);
  }

  /**
   * SerenityOS's copy_mount: the backend holding `path` here, narrowed to `path`, so that another
   * mount of the same live files can be made (in this context or, through the host, in another).
   */
  async locate(path: string): Promise<{ mount: Mount<Backend>; inner: string; kind: 'directory' | 'file' }> {
    const st = await this.getattr(path).catch(() => {
      throw new MountTableError('ENOENT', `"${path}" does not exist`);
    });
    const type = st.mode & S_IFMT;
    if (type !== S_IFDIR && type !== S_IFREG) throw new MountTableError('EINVAL', `"${path}" is neither a directory nor a regular file`);
    const r = this.table.resolve(path)!;
    return { mount: r.mount, inner: r.inner, kind: type === S_IFDIR ? 'directory' : 'file' };
  }

  private resolve(path: string): { tree: FileTree; inner: string; readOnly: boolean; target: string } {
    if (this.hidden.size > 0 && this.isHidden(path)) fail('ENOENT');
    const r = this.table.resolve(path);
    if (!r) fail('ENOENT');
    return { tree: r.mount.backend, inner: r.inner, readOnly: r.mount.readOnly, target: r.mount.target };
  }

  private isHidden(path: string): boolean {
    for (let p = path; p.length > 1; p = p.slice(0, p.lastIndexOf('/')) || '/') if (this.hidden.has(p)) return true;
    return false;
  }

  private writable(path: string): { tree: FileTree; inner: string } {
    const r = this.resolve(path);
    if (r.readOnly) fail('EROFS');
    return r;
  }

  /** A path leading to a mount target shows as a directory even when its backend has no such entry. */
  private synthetic(): Stat {
    const t = this.created;
    return { mode: S_IFDIR | 0o755, uid: 0, gid: 0, size: 0, nlink: 2, ino: 0, rdev: 0, blocks: 0, atimeMs: t, mtimeMs: t, ctimeMs: t };
  }

  /** Both paths must be in one mount; moving between mounts is EXDEV, so mv(1) copies instead. */
  private sameMount(from: string, to: string): { tree: FileTree; a: string; b: string } {
    const a = this.writable(from);
    const b = this.resolve(to);
    if (a.tree !== b.tree) fail('EXDEV');
    return { tree: a.tree, a: a.inner, b: b.inner };
  }

  private notBusy(path: string): void {
    if (this.table.isBusy(path)) fail('EBUSY');
  }

  async getattr(path: string): Promise<Stat> {
    // NOTE: the kernel leaves NAME_MAX to the filesystem; a lookup of a longer name is
    // ENAMETOOLONG, not ENOENT, on every backend.
    const last = path.length - path.lastIndexOf('/') - 1;
    if (last > NAME_MAX / 4 && Buffer.byteLength(path.slice(-last)) > NAME_MAX) fail('ENAMETOOLONG');
    const r = this.resolve(path);
    try {
      return await r.tree.getattr(r.inner);
    } catch (err) {
      if (err instanceof FsError && err.errno === E.ENOENT && this.table.isBusy(path)) return this.synthetic();
      throw err;
    }
  }

  async readdir(path: string): Promise<DirEntries> {
    const r = this.resolve(path);
    const extra = this.table.childMountNames(path);
    let entries: DirEntries;
    try {
      entries = await r.tree.readdir(r.inner);
    } catch (err) {
      if (err instanceof FsError && err.errno === E.ENOENT && extra.length > 0) entries = { names: [], types: [] };
      else throw err;
    }
    if (this.hidden.size > 0) {
      const prefix = path === '/' ? '/' : `${path}/`;
      const keep = entries.names.map((n) => !this.hidden.has(prefix + n));
      entries = { names: entries.names.filter((_, i) => keep[i]), types: entries.types.filter((_, i) => keep[i]) };
    }
    if (extra.length === 0) return entries;
    const seen = new Set(entries.names);
    const names = [...entries.names];
    const types = [...entries.types];
    for (const name of extra) {
      if (seen.has(name)) continue;
      names.push(name);
      types.push(0);
    }
    return { names, types };
  }

  async readlink(path: string): Promise<string> {
    const r = this.resolve(path);
    return r.tree.readlink(r.inner);
  }

  async open(path: string, flags: number, caller: Caller): Promise<number> {
    const writes = (flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0;
    const r = writes ? this.writable(path) : this.resolve(path);
    if (flags & FMODE_EXEC) await this.checkLaunch(path, r, caller);
    return this.files.add(r.tree, await r.tree.open(r.inner, flags, caller));
  }

  private async checkLaunch(path: string, r: { tree: FileTree; inner: string }, caller: Caller): Promise<void> {
    const decision = this.policy.decide(path, await r.tree.getattr(r.inner));
    this.launches.fire({
      time: Date.now(),
      path,
      pid: caller.pid,
      uid: caller.uid,
      allowed: decision.allowed,
      ...(decision.allowed ? {} : { reason: decision.reason }),
    });
    if (!decision.allowed) fail('EPERM');
  }

  async create(path: string, mode: number, caller: Caller): Promise<number> {
    const r = this.writable(path);
    return this.files.add(r.tree, await r.tree.create(r.inner, mode, caller));
  }

  async truncate(path: string, size: number): Promise<void> {
    const r = this.writable(path);
    await r.tree.truncate(r.inner, size);
  }

  async mkdir(path: string, mode: number, caller: Caller): Promise<void> {
    const r = this.writable(path);
    await r.tree.mkdir(r.inner, mode, caller);
  }

  async mknod(path: string, mode: number, dev: number, caller: Caller): Promise<void> {
    const r = this.writable(path);
    await r.tree.mknod(r.inner, mode, dev, caller);
  }

  async symlink(path: string, target: string, caller: Caller): Promise<void> {
    const r = this.writable(path);
    await r.tree.symlink(r.inner, target, caller);
  }

  async link(from: string, to: string): Promise<void> {
    const m = this.sameMount(from, to);
    await m.tree.link(m.a, m.b);
  }

  async unlink(path: string): Promise<void> {
    this.notBusy(path);
    const r = this.writable(path);
    await r.tree.unlink(r.inner);
  }

  async rmdir(path: string): Promise<void> {
    this.notBusy(path);
    const r = this.writable(path);
    await r.tree.rmdir(r.inner);
  }

  async rename(from: string, to: string): Promise<void> {
    this.notBusy(from);
    this.notBusy(to);
    const m = this.sameMount(from, to);
    await m.tree.rename(m.a, m.b);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const r = this.writable(path);
    await r.tree.chmod(r.inner, mode);
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    const r = this.writable(path);
    await r.tree.chown(r.inner, uid, gid);
  }

  async utimens(path: string, atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void> {
    const r = this.writable(path);
    await r.tree.utimens(r.inner, atimeMs, mtimeMs);
  }

  async statfs(): Promise<StatFs> {
    return this.resolve('/').tree.statfs();
  }
}
