// Error values shared by every layer: a stable code, a message naming the bad input, the cause kept.

const BRAND = Symbol.for('fusejail.error');

export class FusejailError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isFusejailError(value: unknown): value is FusejailError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** A config file or command-line value failed validation; nothing was created. */
export class ConfigInvalid extends FusejailError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}

/** A mount table edit was refused: EBUSY for a target in use, ENODEV for nothing mounted. */
export class MountTableError extends FusejailError {
  constructor(
    readonly errno: 'EBUSY' | 'ENODEV' | 'EINVAL' | 'ENOENT',
    message: string,
  ) {
    super(errno, message);
  }
}

/** Mounting or unmounting a FUSE filesystem failed. */
export class MountFailed extends FusejailError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MOUNT_FAILED', message, options);
  }
}

/** A native part (addon or launcher) is missing: the build has not been run. */
export class NativeMissing extends FusejailError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NATIVE_MISSING', message, options);
  }
}
