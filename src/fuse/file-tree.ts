// The seam between the FUSE server and whatever serves a filesystem: backends and mount tables.
//
// Paths are absolute within the tree ("/" is its root) and already canonical: the kernel resolved
// "." and ".." and symlinks before asking. Failures are thrown as FsError and answered as errno.

export interface Caller {
  uid: number;
  gid: number;
  pid: number;
}

export interface Stat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
  rdev: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface StatFs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namemax: number;
}

export interface DirEntries {
  names: string[];
  /** The S_IFMT bits of each entry (0 when unknown), for d_type. */
  types: number[];
}

/** Open flags the kernel passes to open; FMODE_EXEC marks the open made by execve(2). */
export const O_ACCMODE = 0o3;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const FMODE_EXEC = 0x20;

/** An absent time in utimens means "leave it as it is" (UTIME_OMIT). */
export interface FileTree {
  getattr(path: string): Promise<Stat>;
  readdir(path: string): Promise<DirEntries>;
  readlink(path: string): Promise<string>;
  /** Returns a handle, unique within this tree, for read/write/release. */
  open(path: string, flags: number, caller: Caller): Promise<number>;
  create(path: string, mode: number, caller: Caller): Promise<number>;
  read(handle: number, buf: Buffer, length: number, position: number): Promise<number>;
  write(handle: number, buf: Buffer, length: number, position: number): Promise<number>;
  fgetattr(handle: number): Promise<Stat>;
  ftruncate(handle: number, size: number): Promise<void>;
  fsync(handle: number, datasync: boolean): Promise<void>;
  release(handle: number): Promise<void>;
  truncate(path: string, size: number): Promise<void>;
  mkdir(path: string, mode: number, caller: Caller): Promise<void>;
  mknod(path: string, mode: number, dev: number, caller: Caller): Promise<void>;
  symlink(path: string, target: string, caller: Caller): Promise<void>;
  link(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  utimens(path: string, atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void>;
  statfs(): Promise<StatFs>;
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;

export const isDir = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR;


