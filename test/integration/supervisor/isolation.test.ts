// What a container cannot reach of the host: its list's init, the network, System V and POSIX IPC.
import t from 'tap';
import { fuseUnavailable } from '../../helpers/fuse.js';
import { cli } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

t.test('the process list\'s init has no view of the host: its own empty root, only CAP_KILL', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const seen = await run(['run', '--', 'sh', '-c', 'cat /proc/1/mountinfo; ls -A /proc/1/root; grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/1/status']);
  t.equal(seen.status, 0, seen.stderr);
  t.notMatch(seen.stdout, dir, 'the state directory is not in init\'s mount table');
  t.notMatch(seen.stdout, / - fuse/, 'nor any FUSE root');
  t.equal(seen.stdout.split('\n').filter((l) => / - /.test(l)).length, 1, `one mount: its empty root (${seen.stdout})`);
  t.match(seen.stdout, /^CapEff:\s+0000000000000020$/m, 'CAP_KILL only');
  t.match(seen.stdout, /^CapBnd:\s+0000000000000000$/m);
  t.match(seen.stdout, /^NoNewPrivs:\s+1$/m);
  t.match(seen.stderr, /\/proc\/1\/root': Permission denied/, 'jailed, /proc/1/root is not even listed');
  const unjailed = await run(['run', '--no-jail', '--', 'sh', '-c', 'cat /proc/1/root/etc/shadow && echo READ; ls -A /proc/1/root; cat /proc/1/mountinfo']);
  t.notMatch(unjailed.stdout, /READ/, 'unjailed, /proc/1/root/etc/shadow cannot be read');
  t.match(unjailed.stderr, /\/proc\/1\/root\/etc\/shadow: No such file or directory/);
  t.notMatch(unjailed.stdout, dir);
  t.notMatch(unjailed.stdout, /root:/, 'no host password entry');
});
