// Every example in examples/ runs end to end, as a newcomer would run it, and leaves nothing behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fusejail, fuseUnavailable, repo } from '../../helpers/fuse.js';
import { cli, mountsUnder } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();
const example = (name: string) => join(repo, 'examples', name);

/** Runs an example script with this test's private state directory. */
function script(dir: string, name: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', `FUSEJAIL=${fusejail}`, `FUSEJAIL_STATE_DIR=${dir}`, example(name)], (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('buggiebox.json: busybox alone, as SerenityOS builds it', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const r = await run(['run', '-f', example('buggiebox.json'), '--', '/bin/sh', '-c', 'ls /; readlink /bin/sh; readlink /bin/ls; ls /proc/1/status; stat -c %a /tmp']);
  t.equal(r.stderr, '');
  t.equal(r.stdout, 'bin\netc\nproc\ntmp\n/bin/busybox\n/bin/busybox\n/proc/1/status\n1777\n');
  t.equal(r.status, 0);
  t.equal((await run(['run', '-f', example('buggiebox.json')])).status, 0, 'its own command, /bin/sh, reads end-of-file and exits 0');
  t.same(mountsUnder(dir), []);
});

t.test('default.json: the embedded default written out behaves as the default', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const probe = 'hostname; echo pid=$$; ls /; cat /etc/shadow 2>&1; grep NoNewPrivs /proc/self/status';
  const fromFile = await run(['run', '-f', example('default.json'), '--', 'sh', '-c', probe]);
  const embedded = await run(['run', '--', 'sh', '-c', probe]);
  t.equal(fromFile.status, 0);
  t.equal(fromFile.stdout, embedded.stdout, 'the same container');
  t.match(fromFile.stdout, /^fusejail\npid=2\nbin\ndev\netc\nhome\n(lib.*\n)+proc\nroot\nsbin\ntmp\nusr\n/);
  t.match(fromFile.stdout, /cat: \/etc\/shadow: No such file or directory\nNoNewPrivs:\s+1\n$/);
  const shell = await run(['run', '-f', example('default.json'), '-i'], 'echo "shell:$0"\n');
  t.match(shell.stdout, /^shell:.*(bash|sh)\n$/, 'with no command anywhere, the user\'s shell runs');
  t.same(mountsUnder(dir), []);
});

t.test('jailed-build.json: a C program compiled and run in a jail; nothing written outside', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const r = await run(['run', '-f', example('jailed-build.json')]);
  t.equal(r.stderr, '');
  t.equal(r.stdout, 'built and run in a jail\n');
  t.equal(r.status, 0);
  const outside = await run(['run', '-f', example('jailed-build.json'), '--', 'sh', '-c', 'touch /usr/hello 2>&1; ls /work; grep NoNewPrivs /proc/self/status']);
  t.equal(outside.stdout, "touch: cannot touch '/usr/hello': Read-only file system\nNoNewPrivs:\t1\n", 'the toolchain is read-only; /work starts empty each run');
  t.notOk(existsSync('/usr/hello'));
  t.same(mountsUnder(dir), []);
});

t.test('host-view.sh: a file written on the host is read inside, and the reverse', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const r = await script(dir, 'host-view.sh');
  t.equal(r.stderr, '');
  const root = `${dir}/vfs/1/root`;
  t.equal(r.stdout, `the container's root is served at ${root}\ninside, /tmp/from-host says: written on the host\non the host, ${root}/tmp/from-inside says: written inside\n`);
  t.equal(r.status, 0);
  t.same(JSON.parse((await run(['ls', '--json'])).stdout), [], 'its container is removed at exit');
  t.same(mountsUnder(dir), []);
});

t.test('automation.sh: run, exec, ps --json, hostname and exit statuses under set -euo pipefail', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const r = await script(dir, 'automation.sh');
  t.equal(r.stderr, '');
  t.equal(
    r.stdout,
    [
      'job wrote: 42',
      'the failing job exited with 3',
      'pid 1 inside: fusejail init',
      'pid 2 inside: sleep infinity',
      'hostname: worker',
      'hostname seen inside now: renamed',
      'run exited with 7',
      'a missing program: 127',
      '',
    ].join('\n'),
  );
  t.equal(r.status, 0);
  t.same(JSON.parse((await run(['ls', '--json'])).stdout), []);
  t.same(mountsUnder(dir), []);
});
