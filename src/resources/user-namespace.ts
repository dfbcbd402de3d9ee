// The host range a container's user namespace maps its ids to: the "fusejail" subordinate ids.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigInvalid } from '../errors.js';
import type { IdMap } from '../launcher/launch-plan.js';
import { USERNS_SIZE } from '../protocol/config.js';

/** The owner of the range in /etc/subuid and /etc/subgid (`make deps` adds it). */
export const SUBID_OWNER = 'fusejail';

/**
 * The first START of `owner`'s "owner:START:COUNT" lines, or why there is none. A range that
 * starts at 0 or holds fewer than `size` ids is refused: container root would be host root, or
 * some container ids would be host ids of no one's choosing.
 */
export function subordinateStart(text: string, owner: string, size = USERNS_SIZE): number | { problem: string } {
  const line = text.split('\n').find((l) => l.split(':')[0] === owner);
  if (line === undefined) return { problem: 'no subordinate range' };
  const m = /^[^:]+:(\d+):(\d+)$/.exec(line.trim());
  if (!m) return { problem: `a malformed subordinate range ${JSON.stringify(line)} (expected ${owner}:START:COUNT)` };
  const [start, count] = [Number(m[1]), Number(m[2])];
  if (start < 1 || start + size > 2 ** 32 - 1) return { problem: `a subordinate range ${JSON.stringify(line)} that starts at 0 or runs past the last id` };
  if (count < size) return { problem: `a subordinate range ${JSON.stringify(line)} of fewer than ${size} ids` };
  return start;
}

/**
 * NOTE: FUSEJAIL_TEST_SUBID_DIR (a directory holding `subuid` and `subgid`) is for the tests
 * only: it lets them show that a missing range is refused on a host that has one.
 */
function subidFile(kind: 'subuid' | 'subgid'): string {
  const dir = process.env.FUSEJAIL_TEST_SUBID_DIR;
  return dir ? join(dir, kind) : `/etc/${kind}`;
}

/** The map of a container's user namespace, from the host's files; ConfigInvalid naming the file when it cannot be had. */
export function userNamespaceMap(): IdMap {
  const start = (kind: 'subuid' | 'subgid'): number => {
    const file = subidFile(kind);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // NOTE: a missing file holds no range; said as such below.
    }
    const found = subordinateStart(text, SUBID_OWNER);
    if (typeof found === 'object') throw new ConfigInvalid(`user_namespace: ${found.problem} for "${SUBID_OWNER}" in ${file} (make deps adds one)`);
    return found;
  };
  return { uid: start('subuid'), gid: start('subgid'), size: USERNS_SIZE };
}
