// FUSEJAIL_TRACE=1 / --trace: one stderr line per step of run, exec and rm; the steps add up to the wall time.
import { execFile } from 'node:child_process';
import t from 'tap';
import { fusejail, fuseUnavailable } from '../../helpers/fuse.js';
import { cli } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

interface Traced {
  status: number;
  stdout: string;
  steps: { step: string; ms: number }[];
  other: string[];
  wallMs: number;
}

/** Runs the CLI and times it from spawn to exit, as a user's shell would. */
function traced(dir: string, args: string[], env: Record<string, string> = {}): Promise<Traced> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', `FUSEJAIL_STATE_DIR=${dir}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), fusejail, ...args], (err, stdout, stderr) => {
      const wallMs = performance.now() - start;
      const lines = stderr.split('\n').filter(Boolean);
      const steps = lines.flatMap((l) => {
        const m = /^fusejail: trace: (.+) (\d+\.\d) ms$/.exec(l);
        return m ? [{ step: m[1]!, ms: Number(m[2]) }] : [];
      });
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, steps, other: lines.filter((l) => !l.startsWith('fusejail: trace: ')), wallMs });
    });
    child.stdin!.end();
  });
}

function addsUp(t: { ok(value: boolean, message: string): void }, r: Traced, what: string): void {
  const sum = r.steps.reduce((s, x) => s + x.ms, 0);
  // NOTE: the wall time here also holds what no clock inside the CLI can see: /usr/bin/env's exec
  // and the process's exit after its last line, which on a loaded machine is more than 10% of a
  // short command; up to 200 ms of that is allowed besides.
  const slack = Math.max(0.1 * r.wallMs, 200);
  t.ok(Math.abs(sum - r.wallMs) <= slack, `${what}: the steps add up to ${sum.toFixed(0)} ms of a ${r.wallMs.toFixed(0)} ms wall time (within 10%, or 200 ms of process start and exit)`);
}

const LAUNCH = ['launch: sync socket', 'launcher: start', 'launcher: plan', 'launcher: pid namespace', 'launcher: namespaces and root', 'launcher: user and jail', 'launcher: exec', 'launch: report'];

t.test('run, exec and rm: every step, once, in order, adding up to the wall time', { skip }, async (t) => {
  const { dir, run } = cli(t);
  await run(['ls']); // a warm supervisor, as in a script's loop
  const r = await traced(dir, ['run', '--', 'echo', 'hi'], { FUSEJAIL_TRACE: '1' });
  t.equal(r.status, 0);
  t.equal(r.stdout, 'hi\n', 'the output is unchanged');
  t.same(r.other, [], 'nothing else on stderr');
  t.same(
    r.steps.map((s) => s.step.replace(/ \d+$/, '')),
    ['cli start', 'cli: validation', 'connect', 'supervisor: validation', 'vfs-context', 'process-list', 'hostname-context', 'launch plan', ...LAUNCH, 'transport', 'first byte', 'payload',
      'release: processes', 'release: hostname-context', 'release: process-list', 'release: vfs-context', 'release: cgroup', 'exit'],
    'run: CLI start, connect, validation, each resource, the launcher\'s stages, first byte, exit, release',
  );
  addsUp(t, r, 'run');

  t.equal((await run(['run', '-d', '--name', 'tr', '--', 'sleep', '100'])).status, 0);
  const e = await traced(dir, ['exec', '--trace', 'tr', '--', 'echo', 'there']);
  t.equal(e.stdout, 'there\n');
  t.same(e.steps.map((s) => s.step), ['cli start', 'cli: validation', 'connect', 'supervisor: validation', ...LAUNCH, 'transport', 'first byte', 'payload', 'exit'], 'exec');
  addsUp(t, e, 'exec');

  const rm = await traced(dir, ['rm', '-f', '--trace', 'tr']);
  t.equal(rm.status, 0);
  t.same(
    rm.steps.map((s) => s.step.replace(/ \d+$/, '')),
    ['cli start', 'connect', 'supervisor: validation', 'release: processes', 'release: hostname-context', 'release: process-list', 'release: vfs-context', 'release: cgroup', 'transport', 'exit'],
    'rm',
  );
  addsUp(t, rm, 'rm');

  const quiet = await traced(dir, ['run', '--', 'true']);
  t.same([quiet.steps, quiet.other], [[], []], 'without FUSEJAIL_TRACE or --trace, nothing is printed');
});
