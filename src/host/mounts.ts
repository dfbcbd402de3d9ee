// Our FUSE mounts on the host: finding one at a path, telling a stale one, unmounting.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { MountFailed } from '../errors.js';

const execFileAsync = promisify(execFile);

/** The type /proc/mounts shows for our mounts (the server mounts with subtype=fusejail). */
export const FS_TYPE = 'fuse.fusejail';

/** The filesystem mounted exactly at `mountpoint`, if any. */
export function mountedHere(mountpoint: string): { fsType: string } | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const point = fields[4]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point === mountpoint) return { fsType: fields[dash + 1]! };
  }
  return undefined;
}

export async function unmount(mountpoint: string): Promise<void> {
  try {
    await execFileAsync('fusermount', ['-uz', mountpoint]);
  } catch (cause) {
    throw new MountFailed(`cannot unmount ${mountpoint}`, { cause });
  }
}

/** True when our mount at `mountpoint` has no server behind it any more (ENOTCONN). */
export function isStale(mountpoint: string): boolean {
  try {
    statSync(mountpoint);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOTCONN';
  }
}
