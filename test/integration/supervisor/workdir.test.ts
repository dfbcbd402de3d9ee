// -w resolves inside the root as the kernel would; a bad one is the caller's mistake (exit 1, named).
import t from 'tap';
import { fuseUnavailable } from '../../helpers/fuse.js';
import { cli } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

t.test('-w: ".." at "/" stays "/", symlinks are followed inside the root', { skip }, async (t) => {
  const { run } = cli(t);
  t.same(await run(['run', '-w', '/../../..', '--', 'pwd']), { status: 0, stdout: '/\n', stderr: '' });
  t.same(await run(['run', '-w', '/usr/../etc/..', '--', 'pwd']), { status: 0, stdout: '/\n', stderr: '' });
  t.same(await run(['run', '-w', '/tmp/../../usr/./share', '--', 'pwd']), { status: 0, stdout: '/usr/share\n', stderr: '' });
});

t.test('-w missing, not a directory, relative, or out through a magic link: exit 1 naming it, for run and exec', { skip }, async (t) => {
  const { run } = cli(t);
  t.same(await run(['run', '-w', '/nope', '--', 'pwd']), { status: 1, stdout: '', stderr: 'fusejail: -w "/nope": no such directory in the container\n' });
  t.same(await run(['run', '-w', '/etc/passwd', '--', 'pwd']), { status: 1, stdout: '', stderr: 'fusejail: -w "/etc/passwd": not a directory in the container\n' });
  t.same(await run(['run', '-w', 'tmp', '--', 'pwd']), { status: 1, stdout: '', stderr: 'fusejail: -w "tmp": must be an absolute path in the container\n' });
  const magic = await run(['run', '-w', '/proc/1/cwd', '--', 'pwd']);
  t.equal(magic.status, 1, magic.stderr);
  t.match(magic.stderr, /^fusejail: -w "\/proc\/1\/cwd": (leads outside the container|cannot be entered)/);
  t.equal((await run(['run', '-d', '--name', 'w', '--', 'sleep', '100'])).status, 0);
  t.teardown(() => run(['rm', '-f', 'w']));
  t.same(await run(['exec', '-w', '/nope', 'w', '--', 'pwd']), { status: 1, stdout: '', stderr: 'fusejail: -w "/nope": no such directory in the container\n' });
  t.same(await run(['exec', '-w', '/..', 'w', '--', 'pwd']), { status: 0, stdout: '/\n', stderr: '' });
  t.equal((await run(['ls'])).stdout.split('\n').filter((l) => l.includes('running')).length, 1, 'a refused -w leaves no container behind');
});
