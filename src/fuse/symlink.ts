// symlink: a mount that is one symbolic link; the kernel resolves it inside the container's root.
import { fail } from './errno.js';
import { type DirEntries, type FileTree, type Stat, type StatFs, S_IFLNK } from './file-tree.js';

export class Symlink implements FileTree {
  private readonly created = Date.now();

  constructor(readonly target: string) {}

  private only(path: string): void {
    if (path !== '/') fail('ENOTDIR');
  }

  async getattr(path: string): Promise<Stat> {
    this.only(path);
    const t = this.created;
    return { mode: S_IFLNK | 0o777, uid: 0, gid: 0, size: Buffer.byteLength(this.target), nlink: 1, ino: 1, rdev: 0, blocks: 0, atimeMs: t, mtimeMs: t, ctimeMs: t };
  }

  async readlink(path: string): Promise<string> {
    this.only(path);
    return this.target;
  }

  async readdir(): Promise<DirEntries> { fail('ENOTDIR'); }
  async open(): Promise<number> { fail('ELOOP'); }
  async create(): Promise<number> { fail('ENOTDIR'); }
  async read(): Promise<number> { fail('EBADF'); }
  async write(): Promise<number> { fail('EBADF'); }
  async fgetattr(): Promise<Stat> { fail('EBADF'); }
  async ftruncate(): Promise<void> { fail('EBADF'); }
  async fsync(): Promise<void> { fail('EBADF'); }
  async release(): Promise<void> { fail('EBADF'); }
  async truncate(): Promise<void> { fail('EINVAL'); }
  async mkdir(): Promise<void> { fail('ENOTDIR'); }
  async mknod(): Promise<void> { fail('ENOTDIR'); }
  async symlink(): Promise<void> { fail('ENOTDIR'); }
  async link(): Promise<void> { fail('EPERM'); }
  async unlink(): Promise<void> { fail('EBUSY'); }
  async rmdir(): Promise<void> { fail('ENOTDIR'); }
  async rename(): Promise<void> { fail('EBUSY'); }
  async chmod(): Promise<void> { fail('EPERM'); }
  async chown(): Promise<void> { fail('EPERM'); }
  async utimens(): Promise<void> { fail('EPERM'); }
  async statfs(): Promise<StatFs> {
    return { bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 1, ffree: 0, namemax: 255 };
  }
}
