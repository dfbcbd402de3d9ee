// The three oci-* requests checked where trust changes: their key, paths and PID, each error naming the field.
import { lstatSync } from 'node:fs';
import { canonicalPath } from '../protocol/canonical-path.js';
import type { OCICreate, OCIKey } from '../protocol/messages.js';
import { Refused } from './refused.js';

/**
 * NOTE: runc's rule for ids (libcontainer's validateID): letters, digits, "_", "+", "-" and ".",
 * but not "." or ".." (the id names a directory under the root). 1024 bounds a line of `ls`.
 */
const ID = /^[A-Za-z0-9_.+-]{1,1024}$/;

/** NOTE: a trailing "/" is dropped: config.json's root.path is written by people ("rootfs/"). */
function absolute(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new Refused('EINVAL', `oci.${field} must be a string, not ${JSON.stringify(value)}`);
  const check = canonicalPath(value, 'drop');
  if (!check.ok) throw new Refused('EINVAL', `oci.${field} ${JSON.stringify(value)} is not an absolute canonical path (it ${check.reason})`);
  return check.path;
}

function flag(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Refused('EINVAL', `oci.${field} must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

/** The (root, id) an OCI request names. */
export function ociKeyOf(value: unknown): OCIKey {
  if (typeof value !== 'object' || value === null) throw new Refused('EINVAL', 'request: "oci" must be an object with "root" and "id"');
  const { root, id } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !ID.test(id) || id === '.' || id === '..') {
    throw new Refused('EINVAL', `oci.id ${JSON.stringify(id)} must be 1-1024 letters, digits, "_", "+", "-" or "." (and not "." or "..")`);
  }
  return { root: absolute('root', root), id };
}

/** An oci-create's fields; `rootfs` must be a real directory (no symbolic link), as the runtime resolved it. */
export function ociCreateOf(value: unknown): OCICreate {
  const key = ociKeyOf(value);
  const v = value as Record<string, unknown>;
  const rootfs = absolute('rootfs', v.rootfs);
  let directory = false;
  try {
    directory = lstatSync(rootfs).isDirectory();
  } catch {
    throw new Refused('ENOENT', `oci.rootfs ${rootfs} does not exist`);
  }
  if (!directory) throw new Refused('ENOTDIR', `oci.rootfs ${rootfs} is not a directory (a symbolic link is not followed: give the real path)`);
  return { ...key, bundle: absolute('bundle', v.bundle), rootfs, readonly: flag('readonly', v.readonly), jail: flag('jail', v.jail) };
}

/** The init's host PID of an oci-started. */
export function pidOf(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new Refused('EINVAL', `pid ${JSON.stringify(value)} must be a positive integer`);
  return value as number;
}
