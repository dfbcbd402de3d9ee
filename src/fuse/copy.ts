// copy: a host file or tree shown as a private copy, read from the host until first written.
//
// NOTE: Creating a context copies nothing. The host source is the read-only lower layer; the first
// change to an entry copies it (and its parent directories) up into an in-memory upper layer, so
// the host is never written. Deletions are recorded as whiteouts; a directory created where a
// host directory was deleted is opaque (the host's children stay hidden), as in overlayfs.
import { Bind } from './bind.js';
import { E, FsError, fail } from './errno.js';
import { type Caller, type DirEntries, type FileTree, type Stat, type StatFs, O_ACCMODE, O_TRUNC, S_IFLNK, S_IFMT, isDir } from './file-tree.js';
import { CompositeTree } from './open-files.js';
import { Ramfs } from './ramfs.js';
import { Subtree } from './subtree.js';

const COPY_CHUNK = 128 * 1024;

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

async function exists(tree: FileTree, path: string): Promise<Stat | undefined> {
  try {
    return await tree.getattr(path);
  } catch (err) {
    if (err instanceof FsError && (err.errno === E.ENOENT || err.errno === E.ENOTDIR)) return undefined;
    throw err;
  }
}

export class Copy extends CompositeTree implements FileTree {
  private readonly upper: FileTree;
  private readonly whiteouts = new Set<string>();
  private readonly opaque = new Set<string>();

  private constructor(
    private readonly lower: Bind,
    rootStat: Stat,
    sizeLimit: number | undefined,
  ) {
    super();
    const ramfs = new Ramfs({ sizeLimit, root: { uid: rootStat.uid, gid: rootStat.gid, mode: rootStat.mode } });
    // NOTE: a ramfs root is a directory; a copied single file lives at /file inside it.
    this.upper = isDir(rootStat.mode) ? ramfs : new Subtree(ramfs, '/file');
  }

  static async open(options: { source: string; sizeLimit?: number }): Promise<Copy> {
    const lower = Bind.open({ source: options.source, readOnly: true });
    return new Copy(lower, await lower.getattr('/'), options.sizeLimit);
  }

  /** The host entry at `path`, unless a deletion or an opaque directory above hides it. */
  private async lowerStat(path: string, { ignoreWhiteout = false } = {}): Promise<Stat | undefined> {
    if (!ignoreWhiteout && this.whiteouts.has(path)) return undefined;
    for (let p = parentOf(path); ; p = parentOf(p)) {
      if (this.opaque.has(p) || this.whiteouts.has(p)) return undefined;
      if (p === '/') break;
    }
    if (path !== '/' && (this.opaque.has(path) && !ignoreWhiteout)) return undefined;
    return exists(this.lower, path);
  }

  private async layerOf(path: string): Promise<FileTree> {
    if (await exists(this.upper, path)) return this.upper;
    if (await this.lowerStat(path)) return this.lower;
    fail('ENOENT');
  }

  /** Makes `path` exist in the upper layer with the host's content and attributes. */
  private async copyUp(path: string): Promise<void> {
    if (await exists(this.upper, path)) return;
    const st = await this.lowerStat(path);
    if (!st) fail('ENOENT');
    if (path !== '/') await this.copyUp(parentOf(path));
    const owner: Caller = { uid: st.uid, gid: st.gid, pid: 0 };
    if (isDir(st.mode)) {
      await this.upper.mkdir(path, st.mode & 0o7777, owner);
    } else if ((st.mode & S_IFMT) === S_IFLNK) {
      await this.upper.symlink(path, await this.lower.readlink(path), owner);
    } else if (st.mode & S_IFMT && (st.mode & S_IFMT) !== 0o100000) {
      await this.upper.mknod(path, st.mode, st.rdev, owner);
    } else {
      const out = await this.upper.create(path, st.mode & 0o7777, owner);
      const src = await this.lower.open(path, 0);
      try {
        const buf = Buffer.allocUnsafe(COPY_CHUNK);
        for (let pos = 0; ; ) {
          const n = await this.lower.read(src, buf, COPY_CHUNK, pos);
          if (n === 0) break;
          // NOTE: all-zero runs are left as holes, so a sparse host file stays sparse.
          if (buf.subarray(0, n).some((b) => b !== 0)) await this.upper.write(out, buf, n, pos);
          pos += n;
        }
        await this.upper.ftruncate(out, st.size);
      } finally {
        await this.lower.release(src);
        await this.upper.release(out);
      }
    }
    await this.upper.chown(path, st.uid, st.gid);
    if ((st.mode & S_IFMT) !== S_IFLNK) await this.upper.chmod(path, st.mode);
    await this.upper.utimens(path, st.atimeMs, st.mtimeMs);
  }

  /** Copies a directory and everything visible below it, so it can move as a whole. */
  private async copyUpTree(path: string): Promise<void> {
    await this.copyUp(path);
    const st = await this.upper.getattr(path);
    if (!isDir(st.mode)) return;
    const { names } = await this.readdir(path);
    for (const name of names) await this.copyUpTree(path === '/' ? `/${name}` : `${path}/${name}`);
    if (await this.lowerStat(path, { ignoreWhiteout: true })) this.opaque.add(path);
  }

  /** Prepares `path` to be created: its parent copied up, and no whiteout left in the way. */
  private async prepareNew(path: string): Promise<void> {
    await this.copyUp(parentOf(path));
    if (this.whiteouts.delete(path) || (await this.lowerStat(path, { ignoreWhiteout: true }))) this.opaque.add(path);
  }

  async getattr(path: string): Promise<Stat> {
    return (await this.layerOf(path)).getattr(path);
  }

  async readdir(path: string): Promise<DirEntries> {
    const upper = await exists(this.upper, path);
    const lower = await this.lowerStat(path);
    if (!upper && !lower) fail('ENOENT');
    const names: string[] = [];
    const types: number[] = [];
    const seen = new Set<string>();
    if (upper) {
      const entries = await this.upper.readdir(path);
      names.push(...entries.names);
      types.push(...entries.types);
      for (const n of entries.names) seen.add(n);
    }
    if (lower && isDir(lower.mode)) {
      const entries = await this.lower.readdir(path);
      const prefix = path === '/' ? '/' : `${path}/`;
      entries.names.forEach((name, i) => {
        if (seen.has(name) || this.whiteouts.has(prefix + name)) return;
        names.push(name);
        types.push(entries.types[i]!);
      });
    }
    return { names, types };
  }

  async readlink(path: string): Promise<string> {
    return (await this.layerOf(path)).readlink(path);
  }

  async open(path: string, flags: number, caller: Caller): Promise<number> {
    const writes = (flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0;
    if (writes) await this.copyUp(path);
    const layer = writes ? this.upper : await this.layerOf(path);
    return this.files.add(layer, await layer.open(path, flags, caller));
  }

  async create(path: string, mode: number, caller: Caller): Promise<number> {
    await this.prepareNew(path);
    return this.files.add(this.upper, await this.upper.create(path, mode, caller));
  }

  async truncate(path: string, size: number): Promise<void> {
    await this.copyUp(path);
    await this.upper.truncate(path, size);
  }

  async mkdir(path: string, mode: number, caller: Caller): Promise<void> {
    await this.prepareNew(path);
    await this.upper.mkdir(path, mode, caller);
  }

  async mknod(path: string, mode: number, dev: number, caller: Caller): Promise<void> {
    await this.prepareNew(path);
    await this.upper.mknod(path, mode, dev, caller);
  }

  async symlink(path: string, target: string, caller: Caller): Promise<void> {
    await this.prepareNew(path);
    await this.upper.symlink(path, target, caller);
  }

  async link(from: string, to: string): Promise<void> {
    await this.copyUp(from);
    await this.prepareNew(to);
    await this.upper.link(from, to);
  }

  private async remove(path: string, kind: 'file' | 'dir'): Promise<void> {
    const inUpper = await exists(this.upper, path);
    const inLower = await this.lowerStat(path);
    if (!inUpper && !inLower) fail('ENOENT');
    if (kind === 'dir' && (await this.readdir(path)).names.length > 0) fail('ENOTEMPTY');
    if (inUpper) await (kind === 'dir' ? this.upper.rmdir(path) : this.upper.unlink(path));
    else await this.copyUp(parentOf(path));
    if (await this.lowerStat(path, { ignoreWhiteout: true })) this.whiteouts.add(path);
    this.opaque.delete(path);
  }

  async unlink(path: string): Promise<void> {
    const st = await this.getattr(path);
    if (isDir(st.mode)) fail('EISDIR');
    await this.remove(path, 'file');
  }

  async rmdir(path: string): Promise<void> {
    const st = await this.getattr(path);
    if (!isDir(st.mode)) fail('ENOTDIR');
    await this.remove(path, 'dir');
  }

  async rename(from: string, to: string): Promise<void> {
    const target = await exists(this, to);
    if (target && isDir(target.mode) && (await this.readdir(to)).names.length > 0) fail('ENOTEMPTY');
    await this.copyUpTree(from);
    await this.prepareNew(to);
    await this.upper.rename(from, to);
    if (await this.lowerStat(from, { ignoreWhiteout: true })) this.whiteouts.add(from);
    this.opaque.delete(from);
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.copyUp(path);
    await this.upper.chmod(path, mode);
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    await this.copyUp(path);
    await this.upper.chown(path, uid, gid);
  }

  async utimens(path: string, atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void> {
    await this.copyUp(path);
    await this.upper.utimens(path, atimeMs, mtimeMs);
  }

  async statfs(): Promise<StatFs> {
    return this.upper.statfs();
  }
}
