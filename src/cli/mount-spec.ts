// The mount flags (`--bind SRC:DST[:ro]`, `--ramfs DST`, `--copy SRC:DST`), checked before anything is
// asked of the supervisor, each error naming the flag and its value.
import { resolve } from 'node:path';
import { ConfigInvalid } from '../errors.js';
import { canonicalPath } from '../protocol/canonical-path.js';
import type { MountSpec } from '../protocol/messages.js';


function target(flag: string, value: string, path: string): string {
  const check = canonicalPath(path);
  if (!check.ok) throw new ConfigInvalid(`${flag} ${JSON.stringify(value)}: target ${JSON.stringify(path)} is not an absolute canonical path (it ${check.reason})`);
  return check.path;
}

/** NOTE: a relative host source is taken from the current directory, as bwrap and mount(8) do. */
function sourceAndTarget(flag: string, value: string): { source: string; target: string; rest: string[] } {
  const [source, dst, ...rest] = value.split(':');
  if (!source || dst === undefined) throw new ConfigInvalid(`${flag} ${JSON.stringify(value)}: expected SOURCE:TARGET`);
  return { source: resolve(source), target: target(flag, value, dst), rest };
}

export function parseBind(value: string): MountSpec {
  const { source, target: t, rest } = sourceAndTarget('--bind', value);
  if (rest.length > 1 || (rest.length === 1 && rest[0] !== 'ro' && rest[0] !== 'rw')) {
    throw new ConfigInvalid(`--bind ${JSON.stringify(value)}: expected SOURCE:TARGET, SOURCE:TARGET:ro or SOURCE:TARGET:rw`);
  }
  return { kind: 'bind', source, target: t, readOnly: rest[0] === 'ro' };
}

export function parseCopy(value: string): MountSpec {
  const { source, target: t, rest } = sourceAndTarget('--copy', value);
  if (rest.length > 0) throw new ConfigInvalid(`--copy ${JSON.stringify(value)}: expected SOURCE:TARGET`);
  return { kind: 'copy', source, target: t };
}

export function parseRamfs(value: string): MountSpec {
  return { kind: 'ramfs', target: target('--ramfs', value, value) };
}

/** The same mount as a SerenityOS layout entry (what `run` adds to its config). */
export function layoutEntry(m: MountSpec): Record<string, unknown> {
  switch (m.kind) {
    case 'bind':
      return { type: 'mount', fs_type: 'bind', source: m.source, target: m.target, read_only: m.readOnly };
    case 'ramfs':
      return { type: 'mount', fs_type: 'RAMFS', target: m.target };
    case 'copy':
      return { type: 'copy_custom', source: m.source, target: m.target };
  }
}
