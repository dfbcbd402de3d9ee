// ramfs: an in-memory FileTree (SerenityOS's RAMFS): the empty root of a new VFSRootContext.
import { E, FsError, fail } from './errno.js';
import {
  type Caller,
  type DirEntries,
  type FileTree,
  type Stat,
  type StatFs,
  O_TRUNC,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_ISGID,
  isDir,
} from './file-tree.js';

// NOTE: File data lives in fixed-size chunks; a hole is a missing chunk, so a sparse file costs
// only what was written and st_blocks tells the truth about it.
const CHUNK = 64 * 1024;
const BLOCK = 512;
const NAME_MAX = 255;

interface Inode {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: number;
  size: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  chunks?: Map<number, Buffer>;
  children?: Map<string, Inode>;
  target?: string;
}

export interface RamfsOptions {
  /** Bytes of file data the filesystem may hold; writes past it fail with ENOSPC. */
  sizeLimit?: number;
  /** Owner and mode of the root directory. */
  root?: { uid: number; gid: number; mode: number };
}

export class Ramfs implements FileTree {
  private nextIno = 1;
  private nextHandle = 1;
  private readonly handles = new Map<number, Inode>();
  private readonly root: Inode;
  private usedBytes = 0;
  private readonly sizeLimit: number;

  constructor(options: RamfsOptions = {}) {
    this.sizeLimit = options.sizeLimit ?? Number.MAX_SAFE_INTEGER;
    const owner = options.root ?? { uid: 0, gid: 0, mode: 0o755 };
    this.root = this.inode(S_IFDIR | (owner.mode & 0o7777), owner.uid, owner.gid);
    this.root.nlink = 2;
  }

  private inode(mode: number, uid: number, gid: number): Inode {
    const now = Date.now();
    const node: Inode = { ino: this.nextIno++, mode, uid, gid, nlink: 1, rdev: 0, size: 0, atimeMs: now, mtimeMs: now, ctimeMs: now };
    if (isDir(mode)) node.children = new Map();
    else if ((mode & S_IFMT) === S_IFREG) node.chunks = new Map();
    return node;
  }

  private lookup(path: string): Inode {
    let node = this.root;
    if (path === '/') return node;
    for (const name of path.slice(1).split('/')) {
      if (!node.children) fail('ENOTDIR');
      const next = node.children.get(name);
      if (!next) fail('ENOENT');
      node = next;
    }
    return node;
  }

  /** The directory holding `path` and the last component's name. */
  private parentOf(path: string): { dir: Inode; name: string } {
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    if (name.length === 0) fail('EEXIST');
    if (Buffer.byteLength(name) > NAME_MAX) fail('ENAMETOOLONG');
    const dir = this.lookup(slash === 0 ? '/' : path.slice(0, slash));
    if (!dir.children) fail('ENOTDIR');
    return { dir, name };
  }

  private handle(h: number): Inode {
    const node = this.handles.get(h);
    if (!node) throw new FsError(E.EBADF);
    return node;
  }

  private touch(node: Inode, fields: 'mc' | 'c' | 'a'): void {
    const now = Date.now();
    if (fields === 'a') node.atimeMs = now;
    else {
      node.ctimeMs = now;
      if (fields === 'mc') node.mtimeMs = now;
    }
  }

  private newChild(path: string, mode: number, caller: Caller): Inode {
    const { dir, name } = this.parentOf(path);
    if (dir.children!.has(name)) fail('EEXIST');
    // NOTE: BSD group semantics on a set-gid directory, as ext4 does: the group is inherited, and
    // so is the set-gid bit of new subdirectories.
    const sgidParent = (dir.mode & S_ISGID) !== 0;
    const gid = sgidParent ? dir.gid : caller.gid;
    let bits = mode;
    if (sgidParent && isDir(mode)) bits |= S_ISGID;
    const node = this.inode(bits, caller.uid, gid);
    dir.children!.set(name, node);
    if (isDir(mode)) {
      node.nlink = 2;
      dir.nlink++;
    }
    this.touch(dir, 'mc');
    return node;
  }

  private dropIfUnused(node: Inode): void {
    if (node.nlink > 0 || [...this.handles.values()].includes(node)) return;
    this.freeChunks(node, 0);
  }

  private freeChunks(node: Inode, fromChunk: number): void {
    if (!node.chunks) return;
    for (const index of node.chunks.keys()) {
      if (index >= fromChunk) {
        node.chunks.delete(index);
        this.usedBytes -= CHUNK;
      }
    }
  }

  private resize(node: Inode, size: number): void {
    if (!node.chunks) fail(isDir(node.mode) ? 'EISDIR' : 'EINVAL');
    if (size < node.size) {
      this.freeChunks(node, Math.ceil(size / CHUNK));
      const tail = node.chunks.get(Math.floor(size / CHUNK));
      if (tail) tail.fill(0, size % CHUNK);
    }
    node.size = size;
    this.touch(node, 'mc');
  }

  async getattr(path: string): Promise<Stat> {
    return this.stat(this.lookup(path));
  }

  private stat(node: Inode): Stat {
    const blocks = node.chunks ? (node.chunks.size * CHUNK) / BLOCK : node.children ? 8 : 0;
    return {
      mode: node.mode,
      uid: node.uid,
      gid: node.gid,
      size: node.children ? 4096 : node.size,
      nlink: node.nlink,
      ino: node.ino,
      rdev: node.rdev,
      blocks,
      atimeMs: node.atimeMs,
      mtimeMs: node.mtimeMs,
      ctimeMs: node.ctimeMs,
    };
  }

  async readdir(path: string): Promise<DirEntries> {
    const node = this.lookup(path);
    if (!node.children) fail('ENOTDIR');
    const names: string[] = [];
    const types: number[] = [];
    for (const [name, child] of node.children) {
      names.push(name);
      types.push(child.mode & S_IFMT);
    }
    return { names, types };
  }

  async readlink(path: string): Promise<string> {
    const node = this.lookup(path);
    if (node.target === undefined) fail('EINVAL');
    return node.target;
  }

  async open(path: string, flags: number): Promise<number> {
    const node = this.lookup(path);
    if (flags & O_TRUNC && node.chunks) this.resize(node, 0);
    return this.opened(node);
  }

  private opened(node: Inode): number {
    const h = this.nextHandle++;
    this.handles.set(h, node);
    return h;
  }

  async create(path: string, mode: number, caller: Caller): Promise<number> {
    return this.opened(this.newChild(path, S_IFREG | (mode & 0o7777), caller));
  }

  async read(h: number, buf: Buffer, length: number, position: number): Promise<number> {
    const node = this.handle(h);
    if (!node.chunks) fail('EISDIR');
    const end = Math.min(node.size, position + length);
    let done = 0;
    for (let pos = position; pos < end; ) {
      const index = Math.floor(pos / CHUNK);
      const offset = pos % CHUNK;
      const n = Math.min(CHUNK - offset, end - pos);
      const chunk = node.chunks.get(index);
      if (chunk) chunk.copy(buf, done, offset, offset + n);
      else buf.fill(0, done, done + n);
      done += n;
      pos += n;
    }
    node.atimeMs = Date.now();
    return done;
  }

  async write(h: number, buf: Buffer, length: number, position: number): Promise<number> {
    const node = this.handle(h);
    if (!node.chunks) fail('EISDIR');
    let needed = 0;
    for (let index = Math.floor(position / CHUNK); index * CHUNK < position + length; index++) {
      if (!node.chunks.has(index)) needed += CHUNK;
    }
    if (this.usedBytes + needed > this.sizeLimit) fail('ENOSPC');
    let done = 0;
    while (done < length) {
      const pos = position + done;
      const index = Math.floor(pos / CHUNK);
      const offset = pos % CHUNK;
      const n = Math.min(CHUNK - offset, length - done);
      let chunk = node.chunks.get(index);
      if (!chunk) {
        chunk = Buffer.alloc(CHUNK);
        node.chunks.set(index, chunk);
        this.usedBytes += CHUNK;
      }
      buf.copy(chunk, offset, done, done + n);
      done += n;
    }
    node.size = Math.max(node.size, position + length);
    this.touch(node, 'mc');
    return length;
  }

  async fgetattr(h: number): Promise<Stat> {
    return this.stat(this.handle(h));
  }

  async ftruncate(h: number, size: number): Promise<void> {
    this.resize(this.handle(h), size);
  }

  async fsync(h: number): Promise<void> {
    this.handle(h);
  }

  async release(h: number): Promise<void> {
    const node = this.handle(h);
    this.handles.delete(h);
    this.dropIfUnused(node);
  }

  async truncate(path: string, size: number): Promise<void> {
    this.resize(this.lookup(path), size);
  }

  async mkdir(path: string, mode: number, caller: Caller): Promise<void> {
    this.newChild(path, S_IFDIR | (mode & 0o7777), caller);
  }

  async mknod(path: string, mode: number, dev: number, caller: Caller): Promise<void> {
    const node = this.newChild(path, mode, caller);
    node.rdev = dev;
  }

  async symlink(path: string, target: string, caller: Caller): Promise<void> {
    const node = this.newChild(path, S_IFLNK | 0o777, caller);
    node.target = target;
    node.size = Buffer.byteLength(target);
  }

  async link(from: string, to: string): Promise<void> {
    const node = this.lookup(from);
    if (node.children) fail('EPERM');
    const { dir, name } = this.parentOf(to);
    if (dir.children!.has(name)) fail('EEXIST');
    dir.children!.set(name, node);
    node.nlink++;
    this.touch(node, 'c');
    this.touch(dir, 'mc');
  }

  async unlink(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path);
    const node = dir.children!.get(name);
    if (!node) fail('ENOENT');
    if (node.children) fail('EISDIR');
    dir.children!.delete(name);
    node.nlink--;
    this.touch(node, 'c');
    this.touch(dir, 'mc');
    this.dropIfUnused(node);
  }

  async rmdir(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path);
    const node = dir.children!.get(name);
    if (!node) fail('ENOENT');
    if (!node.children) fail('ENOTDIR');
    if (node.children.size > 0) fail('ENOTEMPTY');
    dir.children!.delete(name);
    dir.nlink--;
    node.nlink = 0;
    this.touch(dir, 'mc');
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.parentOf(from);
    const node = src.dir.children!.get(src.name);
    if (!node) fail('ENOENT');
    const dst = this.parentOf(to);
    const existing = dst.dir.children!.get(dst.name);
    if (existing === node) return;
    if (existing) {
      // NOTE: the kernel already refused a directory over a non-directory and the reverse.
      if (existing.children) {
        if (existing.children.size > 0) fail('ENOTEMPTY');
        dst.dir.nlink--;
        existing.nlink = 0;
      } else {
        existing.nlink--;
        this.touch(existing, 'c');
        this.dropIfUnused(existing);
      }
    }
    src.dir.children!.delete(src.name);
    dst.dir.children!.set(dst.name, node);
    if (node.children && src.dir !== dst.dir) {
      src.dir.nlink--;
      dst.dir.nlink++;
    }
    this.touch(node, 'c');
    this.touch(src.dir, 'mc');
    this.touch(dst.dir, 'mc');
  }

  async chmod(path: string, mode: number): Promise<void> {
    const node = this.lookup(path);
    node.mode = (node.mode & S_IFMT) | (mode & 0o7777);
    this.touch(node, 'c');
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    const node = this.lookup(path);
    // NOTE: -1 (as an unsigned 32-bit value) leaves the id unchanged, as chown(2) says.
    if (uid !== 0xffffffff && uid !== -1) node.uid = uid;
    if (gid !== 0xffffffff && gid !== -1) node.gid = gid;
    this.touch(node, 'c');
  }

  async utimens(path: string, atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void> {
    const node = this.lookup(path);
    if (atimeMs !== undefined) node.atimeMs = atimeMs;
    if (mtimeMs !== undefined) node.mtimeMs = mtimeMs;
    this.touch(node, 'c');
  }

  async statfs(): Promise<StatFs> {
    const limit = Math.min(this.sizeLimit, 2 ** 50);
    const blocks = Math.floor(limit / 4096);
    const free = Math.max(0, Math.floor((limit - this.usedBytes) / 4096));
    return { bsize: 4096, blocks, bfree: free, bavail: free, files: 1 << 30, ffree: (1 << 30) - this.nextIno, namemax: NAME_MAX };
  }
}
