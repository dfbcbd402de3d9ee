// The one place Node/libc error names become the negative errno numbers FUSE answers with.
import { constants } from 'node:os';

export type ErrnoName = keyof typeof constants.errno;

export function errno(name: ErrnoName): number {
  return -constants.errno[name];
}

/** Thrown inside backends; the FUSE server turns it into a reply, never into a crash. */
export class FsError extends Error {
  constructor(
    readonly errno: number,
    name?: ErrnoName,
  ) {
    super(name ?? `errno ${-errno}`);
  }
}

export function fail(name: ErrnoName): never {
  throw new FsError(errno(name), name);
}

/** Maps anything a backend threw to a negative errno (EIO for what is not a filesystem error). */
export function toErrno(err: unknown): number {
  if (err instanceof FsError) return err.errno;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && code in constants.errno) return errno(code as ErrnoName);
  return errno('EIO');
}

export const E = {
  EPERM: errno('EPERM'),
  ENOENT: errno('ENOENT'),
  EIO: errno('EIO'),
  EBADF: errno('EBADF'),
  EACCES: errno('EACCES'),
  EBUSY: errno('EBUSY'),
  EEXIST: errno('EEXIST'),
  EXDEV: errno('EXDEV'),
  ENODEV: errno('ENODEV'),
  ENOTDIR: errno('ENOTDIR'),
  EISDIR: errno('EISDIR'),
  EINVAL: errno('EINVAL'),
  EFBIG: errno('EFBIG'),
  ENOSPC: errno('ENOSPC'),
  EROFS: errno('EROFS'),
  EMLINK: errno('EMLINK'),
  ENAMETOOLONG: errno('ENAMETOOLONG'),
  ENOSYS: errno('ENOSYS'),
  ENOTEMPTY: errno('ENOTEMPTY'),
  ELOOP: errno('ELOOP'),
  ENOTSUP: errno('ENOTSUP'),
} as const;
