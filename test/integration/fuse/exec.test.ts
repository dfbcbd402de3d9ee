// Launch interception: the FUSE layer sees every execve(2) and, when jailed, can refuse it.
import { join } from 'node:path';
import t from 'tap';
import { eventually, fuseUnavailable, serve, sh } from '../../helpers/fuse.js';

const skip = fuseUnavailable();
const layout = [{ type: 'mount', target: '/w', fs_type: 'RAMFS' }];

t.test('jailed: a set-uid copy of a binary is refused, a plain one runs', { skip }, async (t) => {
  const s = await serve(t, { jail: true, hostname: null, layout });
  const w = join(s.root, 'w');
  t.equal(sh(`cp /usr/bin/id '${w}/id' && cp /usr/bin/id '${w}/suid-id' && chmod 4755 '${w}/suid-id'`).status, 0);
  t.equal(sh(`'${w}/id' -u`).stdout, '0\n', 'a plain binary runs');
  const refused = sh(`'${w}/suid-id' -u`);
  t.not(refused.status, 0);
  t.match(refused.stderr, 'Operation not permitted', 'execve of the set-uid copy gets EPERM');
  t.equal(sh(`cat '${w}/suid-id' > /dev/null`).status, 0, 'reading it is still allowed: only the launch is refused');
  const refusal = /refused launch of \/w\/suid-id by pid \d+ \(setuid\)/;
  t.match(await eventually(s.stderr, refusal), refusal, 'the refusal is reported with the launching pid');
});

t.test('jailed with exec_allow: only the listed paths run', { skip }, async (t) => {
  const s = await serve(t, { jail: true, hostname: null, layout, exec_allow: ['/w/allowed'] });
  const w = join(s.root, 'w');
  sh(`cp /usr/bin/true '${w}/allowed' && cp /usr/bin/true '${w}/other'`);
  t.equal(sh(`'${w}/allowed'`).status, 0);
  t.match(sh(`'${w}/other'`).stderr, 'Operation not permitted');
  const refusal = /refused launch of \/w\/other by pid \d+ \(not-allowed\)/;
  t.match(await eventually(s.stderr, refusal), refusal);
});

t.test('not jailed: set-uid files launch (and nosuid keeps them unprivileged)', { skip }, async (t) => {
  const s = await serve(t, { jail: false, hostname: null, layout });
  const w = join(s.root, 'w');
  sh(`cp /usr/bin/id '${w}/suid-id' && chmod 4755 '${w}/suid-id' && chown 0:0 '${w}/suid-id'`);
  t.equal(sh(`'${w}/suid-id' -u`, 'nobody').stdout, `${sh('id -u nobody').stdout}`, 'runs with the caller\'s uid: the mount is nosuid');
});
