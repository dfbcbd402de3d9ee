// A pinned UTS namespace: a hostname context that outlives its processes until released.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FusejailError } from '../errors.js';
import { launcherProgram } from './launch-plan.js';

const run = promisify(execFile);

export class PinFailed extends FusejailError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PIN_FAILED', message, options);
  }
}

/** Creates a UTS namespace with `hostname` and pins it at `path` (a file the launcher creates). */
export async function pinHostname(path: string, hostname: string): Promise<void> {
  try {
    await run(launcherProgram, ['pin', path, hostname]);
  } catch (cause) {
    throw new PinFailed(`cannot pin a hostname context at ${path}: ${(cause as { stderr?: string }).stderr?.trim() ?? cause}`, { cause });
  }
}

export async function unpinHostname(path: string): Promise<void> {
  try {
    await run(launcherProgram, ['unpin', path]);
  } catch (cause) {
    throw new PinFailed(`cannot release the hostname context at ${path}`, { cause });
  }
}

/** The hostname of a pinned context, or sets it to `name`. */
export async function pinnedHostname(path: string, name?: string): Promise<string> {
  try {
    const { stdout } = await run(launcherProgram, ['hostname', path, ...(name !== undefined ? [name] : [])]);
    return name ?? stdout.trim();
  } catch (cause) {
    throw new PinFailed(`cannot ${name !== undefined ? 'set' : 'read'} the hostname of ${path}: ${(cause as { stderr?: string }).stderr?.trim() ?? cause}`, { cause });
  }
}
