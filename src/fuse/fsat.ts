// Typed access to native-bindings/fsat.c: host calls confined beneath a directory fd.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NativeMissing } from '../errors.js';

/** Every call returns a negative errno on failure (see fsat.c). */
export interface Fsat {
  open(root: number, rel: string, flags: number, mode: number): number;
  lstat(root: number, rel: string, out: Float64Array): number;
  fstat(fd: number, out: Float64Array): number;
  readdir(root: number, rel: string): [string[], number[]] | number;
  readlink(root: number, rel: string): string | number;
  mkdir(root: number, rel: string, mode: number): number;
  mknod(root: number, rel: string, mode: number, dev: number): number;
  symlink(root: number, rel: string, target: string): number;
  unlink(root: number, rel: string): number;
  rmdir(root: number, rel: string): number;
  rename(root: number, from: string, to: string, flags: number): number;
  link(root: number, from: string, to: string): number;
  chmod(root: number, rel: string, mode: number): number;
  chown(root: number, rel: string, uid: number, gid: number): number;
  utimens(root: number, rel: string, atimeMs: number, mtimeMs: number): number;
  statfs(fd: number, out: Float64Array): number;
  close(fd: number): number;
  ftruncate(fd: number, size: number): number;
  fchmod(fd: number, mode: number): number;
  fchown(fd: number, uid: number, gid: number): number;
  peerCredentials(fd: number): [pid: number, uid: number, gid: number] | number;
}

const addonPath = fileURLToPath(new URL('../../build/native/fsat.node', import.meta.url));

function load(): Fsat {
  try {
    return createRequire(import.meta.url)(addonPath) as Fsat;
  } catch (cause) {
    throw new NativeMissing(`cannot load ${addonPath}: run 'make build' first`, { cause });
  }
}

export const fsat: Fsat = load();

/** Order of the fields fsat.c packs into a stat array. */
export const ST = { MODE: 0, UID: 1, GID: 2, SIZE: 3, NLINK: 4, INO: 5, RDEV: 6, BLKSIZE: 7, BLOCKS: 8, ATIME: 9, MTIME: 10, CTIME: 11, FIELDS: 12 } as const;
