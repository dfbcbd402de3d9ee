// Where the supervisor keeps its socket and resources, and the rule that nobody else owns it.
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FusejailError } from '../errors.js';

export class StateDirRefused extends FusejailError {
  constructor(message: string) {
    super('STATE_DIR_REFUSED', message);
  }
}

/** FUSEJAIL_STATE_DIR, else /run/fusejail for root, else $XDG_RUNTIME_DIR/fusejail (DESIGN §4). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FUSEJAIL_STATE_DIR) return env.FUSEJAIL_STATE_DIR;
  if (process.getuid?.() === 0) return '/run/fusejail';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'fusejail');
  throw new StateDirRefused('no state directory: set XDG_RUNTIME_DIR or FUSEJAIL_STATE_DIR');
}

/** Creates it 0700, or checks that an existing one is ours and closed to others. */
export function ensureStateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new StateDirRefused(`state directory ${dir} is not a directory`);
  if (st.uid !== process.getuid?.()) throw new StateDirRefused(`state directory ${dir} belongs to uid ${st.uid}, not to us`);
  if (st.mode & 0o077) throw new StateDirRefused(`state directory ${dir} is open to others (mode ${(st.mode & 0o777).toString(8)}); it must be 0700`);
  return dir;
}

export const socketPath = (dir: string): string => join(dir, 'supervisor.sock');
