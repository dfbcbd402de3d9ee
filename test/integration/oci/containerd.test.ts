// containerd's io.containerd.runc.v2 shim (what Kubernetes uses through CRI) drives each OCI runtime, through ctr.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { containerd, IMAGE, podman, runtimes } from '../../helpers/oci-clients.js';
import { until } from '../../helpers/supervisor.js';

function missing(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (containerd as root, its state in a temp dir)';
  for (const program of ['containerd', 'ctr', 'podman']) {
    try {
      execFileSync(program, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${program} is not installed (make test-deps)`;
    }
  }
  return false;
}

const base = missing();

for (const runtime of runtimes()) {
  t.test(`${runtime.name}: ctr run --runc-binary: output, exit status, a detached task killed and deleted`, { skip: base || runtime.skip }, async (t) => {
    const c = await containerd(t, await podman(t));
    const RUN = ['run', '--snapshotter', 'native', ...c.runtimeArgs(runtime)];
    const r = await c.ctr([...RUN, '--rm', IMAGE, 'once', 'sh', '-c', 'echo hi; id -u; exit 3']);
    t.equal(r.stdout, 'hi\n0\n', r.stderr);
    t.equal(r.status, 3, 'the task\'s exit status is ctr\'s');
    t.equal((await c.ctr(['containers', 'ls', '-q'])).stdout, '', '--rm deleted the container');

    const detached = await c.ctr([...RUN, '--detach', IMAGE, 'bg', 'sh', '-c', 'trap "exit 9" TERM; while :; do sleep 0.1; done']);
    t.equal(detached.status, 0, detached.stderr);
    t.match((await c.ctr(['tasks', 'ls'])).stdout, /^bg\s+\d+\s+RUNNING$/m);
    const ps = await c.ctr(['tasks', 'ps', 'bg']);
    t.match(ps.stdout, /^PID\s+INFO\n\d+\s+-\n/m, `the shim listed its processes (ps --format json): ${ps.stderr}`);
    t.equal((await c.ctr(['tasks', 'kill', 'bg'])).status, 0, 'SIGTERM by default');
    t.ok(await until(async () => /^bg\s+\d+\s+STOPPED$/m.test((await c.ctr(['tasks', 'ls'])).stdout), 10_000), 'stopped');
    const deleted = await c.ctr(['tasks', 'delete', 'bg']);
    t.equal(deleted.status, 0);
    t.match(deleted.stderr, /exit code 9\b/, 'the shim learned its exit status (9, from the trap): it waited on the init as its descendant');
    t.equal((await c.ctr(['containers', 'delete', 'bg'])).status, 0);
    t.equal((await c.ctr(['tasks', 'ls', '-q'])).stdout, '', 'no task is left');
  });
}
