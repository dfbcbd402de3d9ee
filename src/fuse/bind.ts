// bind: a host directory or file served through the mount, every access confined beneath it.
import { closeSync, fdatasync as fdatasyncCb, fsync as fsyncCb, openSync, readSync, realpathSync, writeSync } from 'node:fs';
import { constants } from 'node:fs';
import { promisify } from 'node:util';
import { FsError, fail } from './errno.js';
import { type Caller, type DirEntries, type FileTree, type Stat, type StatFs, O_ACCMODE, S_IFMT, S_IFREG, S_ISGID, S_ISUID, isDir } from './file-tree.js';
import { ST, fsat } from './fsat.js';

const fsyncAsync = promisify(fsyncCb);
const fdatasyncAsync = promisify(fdatasyncCb);

// NOTE: openat2(2) refuses unknown flag bits, and the kernel's flags carry some (FMODE_EXEC), so
// only the flags whose meaning we want on the host file pass through.
const PASSED_FLAGS = O_ACCMODE | constants.O_APPEND | constants.O_TRUNC | constants.O_SYNC | constants.O_DSYNC | constants.O_NONBLOCK;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const scratch = new Float64Array(ST.FIELDS);

export interface BindOptions {
  /** An absolute host path: a directory, or a single file. */
  source: string;
  readOnly: boolean;
}

function check(rc: number): number {
  if (rc < 0) throw new FsError(rc);
  return rc;
}

export class Bind implements FileTree {
  private readonly rootFd: number;
  /** For a file bind, the file's name inside rootFd (its parent directory); "" for a directory bind. */
  private readonly fileName: string;
  private readonly statBuf = new Float64Array(ST.FIELDS);
  readonly readOnly: boolean;

  private constructor(rootFd: number, fileName: string, readOnly: boolean) {
    this.rootFd = rootFd;
    this.fileName = fileName;
    this.readOnly = readOnly;
  }

  /**
   * Opens the source once, following its host path as given (merged-usr /bin is a symlink); after
   * that, renames or symlink swaps of that path do not move the bind, and nothing below it follows
   * a symlink.
   */
  static open(options: BindOptions): Bind {
    const O_PATH = 0o10000000;
    const source = realpathSync(options.source);
    const fd = openSync(source, O_PATH);
    check(fsat.fstat(fd, scratch));
    if (isDir(scratch[ST.MODE]!)) return new Bind(fd, '', options.readOnly);
    closeSync(fd);
    const slash = source.lastIndexOf('/');
    const dirFd = openSync(source.slice(0, slash) || '/', O_PATH | constants.O_DIRECTORY);
    return new Bind(dirFd, source.slice(slash + 1), options.readOnly);
  }

  /** The host path relative to the source. */
  private rel(path: string): string {
    if (this.fileName === '') return path === '/' ? '' : path.slice(1);
    if (path !== '/') fail('ENOENT');
    return this.fileName;
  }

  private writable(): void {
    if (this.readOnly) fail('EROFS');
  }

  private stat(buf: Float64Array): Stat {
    return {
      mode: buf[ST.MODE]!,
      uid: buf[ST.UID]!,
      gid: buf[ST.GID]!,
      size: buf[ST.SIZE]!,
      nlink: buf[ST.NLINK]!,
      ino: buf[ST.INO]!,
      rdev: buf[ST.RDEV]!,
      blocks: buf[ST.BLOCKS]!,
      atimeMs: buf[ST.ATIME]!,
      mtimeMs: buf[ST.MTIME]!,
      ctimeMs: buf[ST.CTIME]!,
    };
  }

  async getattr(path: string): Promise<Stat> {
    check(fsat.lstat(this.rootFd, this.rel(path), this.statBuf));
    return this.stat(this.statBuf);
  }

  async readdir(path: string): Promise<DirEntries> {
    const out = fsat.readdir(this.rootFd, this.rel(path));
    if (typeof out === 'number') throw new FsError(out);
    return { names: out[0], types: out[1] };
  }

  async readlink(path: string): Promise<string> {
    const out = fsat.readlink(this.rootFd, this.rel(path));
    if (typeof out === 'number') throw new FsError(out);
    return out;
  }

  async open(path: string, flags: number): Promise<number> {
    if ((flags & O_ACCMODE) !== constants.O_RDONLY || flags & constants.O_TRUNC) this.writable();
    return check(fsat.open(this.rootFd, this.rel(path), flags & PASSED_FLAGS, 0));
  }

  async create(path: string, mode: number, caller: Caller): Promise<number> {
    this.writable();
    this.refusePrivilege(mode);
    const rel = this.rel(path);
    const fd = check(fsat.open(this.rootFd, rel, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, mode & 0o777));
    const rc = fsat.fchown(fd, caller.uid, this.groupFor(rel, caller));
    if (rc < 0) {
      fsat.close(fd);
      fsat.unlink(this.rootFd, rel);
      throw new FsError(rc);
    }
    return fd;
  }

  // NOTE: a container's root is host root minus capabilities; a set-uid file or a device node it
  // created in a host directory would be a privilege waiting for any host user (DESIGN §3).
  private refusePrivilege(mode: number): void {
    const type = mode & S_IFMT;
    if (type !== S_IFREG && type !== S_IFIFO && type !== S_IFSOCK && !isDir(mode)) fail('EPERM');
    if (!isDir(mode) && mode & (S_ISUID | S_ISGID)) fail('EPERM');
  }

  /** New entries belong to the caller; a set-gid parent directory gives its group instead. */
  private groupFor(rel: string, caller: Caller): number {
    const slash = rel.lastIndexOf('/');
    if (fsat.lstat(this.rootFd, slash < 0 ? '' : rel.slice(0, slash), this.statBuf) === 0 && this.statBuf[ST.MODE]! & S_ISGID) {
      return this.statBuf[ST.GID]!;
    }
    return caller.gid;
  }

  private owned(rel: string, caller: Caller): void {
    const rc = fsat.chown(this.rootFd, rel, caller.uid, this.groupFor(rel, caller));
    if (rc < 0) throw new FsError(rc);
  }

  async read(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
    return readSync(fd, buf, 0, length, position);
  }

  async write(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
    this.writable();
    return writeSync(fd, buf, 0, length, position);
  }

  async fgetattr(fd: number): Promise<Stat> {
    check(fsat.fstat(fd, this.statBuf));
    return this.stat(this.statBuf);
  }

  async ftruncate(fd: number, size: number): Promise<void> {
    this.writable();
    check(fsat.ftruncate(fd, size));
  }

  async fsync(fd: number, datasync: boolean): Promise<void> {
    await (datasync ? fdatasyncAsync(fd) : fsyncAsync(fd));
  }

  async release(fd: number): Promise<void> {
    check(fsat.close(fd));
  }

  async truncate(path: string, size: number): Promise<void> {
    this.writable();
    const fd = check(fsat.open(this.rootFd, this.rel(path), constants.O_WRONLY, 0));
    const rc = fsat.ftruncate(fd, size);
    fsat.close(fd);
    check(rc);
  }

  async mkdir(path: string, mode: number, caller: Caller): Promise<void> {
    this.writable();
    const rel = this.rel(path);
    check(fsat.mkdir(this.rootFd, rel, mode & 0o3777));
    this.owned(rel, caller);
  }

  async mknod(path: string, mode: number, dev: number, caller: Caller): Promise<void> {
    this.writable();
    this.refusePrivilege(mode);
    const rel = this.rel(path);
    check(fsat.mknod(this.rootFd, rel, mode & (S_IFMT | 0o777), dev));
    this.owned(rel, caller);
  }

  async symlink(path: string, target: string, caller: Caller): Promise<void> {
    this.writable();
    const rel = this.rel(path);
    check(fsat.symlink(this.rootFd, rel, target));
    this.owned(rel, caller);
  }

  async link(from: string, to: string): Promise<void> {
    this.writable();
    check(fsat.link(this.rootFd, this.rel(from), this.rel(to)));
  }

  async unlink(path: string): Promise<void> {
    this.writable();
    check(fsat.unlink(this.rootFd, this.rel(path)));
  }

  async rmdir(path: string): Promise<void> {
    this.writable();
    check(fsat.rmdir(this.rootFd, this.rel(path)));
  }

  async rename(from: string, to: string): Promise<void> {
    this.writable();
    check(fsat.rename(this.rootFd, this.rel(from), this.rel(to), 0));
  }

  async chmod(path: string, mode: number): Promise<void> {
    this.writable();
    const rel = this.rel(path);
    check(fsat.lstat(this.rootFd, rel, this.statBuf));
    this.refusePrivilege((this.statBuf[ST.MODE]! & S_IFMT) | (mode & 0o7777));
    check(fsat.chmod(this.rootFd, rel, mode & 0o7777));
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    this.writable();
    check(fsat.chown(this.rootFd, this.rel(path), uid | 0, gid | 0));
  }

  async utimens(path: string, atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void> {
    this.writable();
    check(fsat.utimens(this.rootFd, this.rel(path), atimeMs ?? -1, mtimeMs ?? -1));
  }

  async statfs(): Promise<StatFs> {
    const out = new Float64Array(7);
    check(fsat.statfs(this.rootFd, out));
    return { bsize: out[0]!, blocks: out[2]!, bfree: out[3]!, bavail: out[4]!, files: out[5]!, ffree: out[6]!, namemax: 255 };
  }
}
