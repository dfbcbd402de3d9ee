// subtree: one directory (or file) of a FileTree shown as a tree of its own.
import type { Caller, DirEntries, FileTree, Stat, StatFs } from './file-tree.js';

export class Subtree implements FileTree {
  constructor(
    private readonly tree: FileTree,
    private readonly prefix: string,
  ) {}

  private p(path: string): string {
    return path === '/' ? this.prefix : this.prefix + path;
  }

  getattr(path: string): Promise<Stat> { return this.tree.getattr(this.p(path)); }
  readdir(path: string): Promise<DirEntries> { return this.tree.readdir(this.p(path)); }
  readlink(path: string): Promise<string> { return this.tree.readlink(this.p(path)); }
  open(path: string, flags: number, caller: Caller): Promise<number> { return this.tree.open(this.p(path), flags, caller); }
  create(path: string, mode: number, caller: Caller): Promise<number> { return this.tree.create(this.p(path), mode, caller); }
  read(h: number, buf: Buffer, length: number, position: number): Promise<number> { return this.tree.read(h, buf, length, position); }
  write(h: number, buf: Buffer, length: number, position: number): Promise<number> { return this.tree.write(h, buf, length, position); }
  fgetattr(h: number): Promise<Stat> { return this.tree.fgetattr(h); }
  ftruncate(h: number, size: number): Promise<void> { return this.tree.ftruncate(h, size); }
  fsync(h: number, datasync: boolean): Promise<void> { return this.tree.fsync(h, datasync); }
  release(h: number): Promise<void> { return this.tree.release(h); }
  truncate(path: string, size: number): Promise<void> { return this.tree.truncate(this.p(path), size); }
  mkdir(path: string, mode: number, caller: Caller): Promise<void> { return this.tree.mkdir(this.p(path), mode, caller); }
  mknod(path: string, mode: number, dev: number, caller: Caller): Promise<void> { return this.tree.mknod(this.p(path), mode, dev, caller); }
  symlink(path: string, target: string, caller: Caller): Promise<void> { return this.tree.symlink(this.p(path), target, caller); }
  link(from: string, to: string): Promise<void> { return this.tree.link(this.p(from), this.p(to)); }
  unlink(path: string): Promise<void> { return this.tree.unlink(this.p(path)); }
  rmdir(path: string): Promise<void> { return this.tree.rmdir(this.p(path)); }
  rename(from: string, to: string): Promise<void> { return this.tree.rename(this.p(from), this.p(to)); }
  chmod(path: string, mode: number): Promise<void> { return this.tree.chmod(this.p(path), mode); }
  chown(path: string, uid: number, gid: number): Promise<void> { return this.tree.chown(this.p(path), uid, gid); }
  utimens(path: string, atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void> { return this.tree.utimens(this.p(path), atimeMs, mtimeMs); }
  statfs(): Promise<StatFs> { return this.tree.statfs(); }
}
