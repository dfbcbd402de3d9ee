// Launch interception in the context server: every execve is an event; the jailed rule refuses.
import { copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { LaunchEvent } from '../../../src/context-server/table.js';
import { contextServerUnavailable, hostDir, ramfsRoot, startContext } from '../../helpers/context-server.js';
import { eventually, sh } from '../../helpers/fuse.js';

const skip = contextServerUnavailable();

/** A host dir with `allowed`, `other` and a set-uid `suid`, copies of /usr/bin/true. */
function binaries(t: Parameters<typeof hostDir>[0]): string {
  const dir = hostDir(t, 'bin');
  for (const name of ['allowed', 'other', 'suid']) copyFileSync('/usr/bin/true', join(dir, name));
  chmodSync(join(dir, 'suid'), 0o4755);
  return dir;
}

t.test('not jailed: every launch is an allowed event with the caller', { skip }, async (t) => {
  const bin = binaries(t);
  const c = await startContext(t, [ramfsRoot(), { op: 'mount', mount: { type: 'bind', target: '/bin', readOnly: true, source: bin } }]);
  const events: LaunchEvent[] = [];
  c.server.onLaunch((e) => events.push(e));
  t.equal(sh(`'${c.root}/bin/other'`).status, 0);
  t.equal(sh(`'${c.root}/bin/suid'`).status, 0, 'set-uid files run when not jailed (the mount is nosuid)');
  await eventually(() => String(events.length), /^2$/);
  t.match(events[0], { path: '/bin/other', allowed: true, uid: 0 });
  t.ok(events[0]!.pid > 0 && Math.abs(events[0]!.time - Date.now()) < 60_000);
  t.equal(events[0]!.reason, undefined);
});

t.test('jailed: set-uid files and paths outside the allow list are refused, and the events say why', { skip }, async (t) => {
  const bin = binaries(t);
  const c = await startContext(t, [ramfsRoot(), { op: 'mount', mount: { type: 'bind', target: '/bin', readOnly: true, source: bin } }], {
    jailed: true,
    allow: ['/bin/allowed', '/bin/suid'],
  });
  const events: LaunchEvent[] = [];
  c.server.onLaunch((e) => events.push(e));
  t.equal(sh(`'${c.root}/bin/allowed'`).status, 0, 'a listed path runs');
  const suid = sh(`'${c.root}/bin/suid'`);
  t.not(suid.status, 0);
  t.match(suid.stderr, /Operation not permitted|Permission denied/, 'execve of a set-uid file fails');
  const other = sh(`'${c.root}/bin/other'`);
  t.match(other.stderr, /Operation not permitted|Permission denied/, 'execve of an unlisted path fails');
  t.equal(sh(`cat '${c.root}/bin/other' > /dev/null`).status, 0, 'reading it is still allowed: only the launch is refused');
  await eventually(() => String(events.length), /^3$/);
  t.match(events, [
    { path: '/bin/allowed', allowed: true },
    { path: '/bin/suid', allowed: false, reason: 'setuid' },
    { path: '/bin/other', allowed: false, reason: 'not-allowed' },
  ]);
});

t.test('a long allow list (a serve request of several hundred KiB) is read whole', { skip }, async (t) => {
  const bin = binaries(t);
  const allow = Array.from({ length: 20_000 }, (_, i) => `/some/long/path/to/a/program/number/${i}`).concat(['/bin/allowed']);
  const c = await startContext(t, [ramfsRoot(), { op: 'mount', mount: { type: 'bind', target: '/bin', readOnly: true, source: bin } }], { jailed: true, allow });
  t.equal(sh(`'${c.root}/bin/allowed'`).status, 0);
  t.not(sh(`'${c.root}/bin/other'`).status, 0);
});
