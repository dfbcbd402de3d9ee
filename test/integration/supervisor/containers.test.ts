// Detached containers and the commands that address them, through the CLI.
import { execFile } from 'node:child_process';
import t from 'tap';
import { fusejail, fuseUnavailable } from '../../helpers/fuse.js';
import { alive, cli, mountsUnder, until } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

t.test('a detached container: ls, exec into its resources, ps, rm refused while running, kill, rm', { skip }, async (t) => {
  const { dir, run } = cli(t);
  t.equal((await run(['run', '-d', '--name', 'box', '--', 'sleep', '60'])).stdout, 'box\n');
  const [info] = JSON.parse((await run(['ls', '--json'])).stdout) as { name: string; status: string; resources: Record<string, number> }[];
  t.same([info!.name, info!.status, Object.keys(info!.resources).sort()], ['box', 'running', ['hostname-context', 'process-list', 'vfs-context']]);
  const inside = await run(['exec', 'box', '--', 'sh', '-c', 'hostname; cat /proc/1/comm; echo $$']);
  t.same(inside.stdout.split('\n'), ['fusejail', 'fusejail-init', '3', ''], 'exec shares the hostname and the process list (init 1, sleep 2, this 3)');
  const ps = JSON.parse((await run(['ps', 'box', '--json'])).stdout) as { containerPid: number; hostPid: number; command: string }[];
  t.same(ps.map((p) => [p.containerPid, p.command.split(' ').at(-1)]), [[1, 'init'], [2, '60']]);
  t.ok(ps.every((p) => p.hostPid > 1), 'each with its host PID');
  const busy = await run(['rm', 'box']);
  t.equal(busy.status, 1);
  t.equal(busy.stderr, 'fusejail: container box is running; stop it first, or use rm -f\n');
  t.equal((await run(['kill', 'box', 'TERM'])).status, 0);
  t.ok(await until(async () => (await run(['ls', '--json'])).stdout.includes('"exited"')), 'SIGTERM ended it; it stays, exited, until rm');
  t.match((await run(['ls'])).stdout, /box\s+exited \(143\)/);
  const table = JSON.parse((await run(['mounts', 'box', '--json'])).stdout) as { target: string; type: string; source?: string; readOnly: boolean }[];
  t.same(table[0], { target: '/', type: 'ramfs', readOnly: false }, 'the default root is an empty RAMFS');
  t.ok(table.some((m) => m.target === '/usr' && m.type === 'bind' && m.source === '/usr' && m.readOnly), '/usr is the host\'s, read-only');
  t.ok(table.some((m) => m.target === '/proc' && m.type === 'proc'), '/proc is where the kernel\'s goes');
  t.equal((await run(['rm', 'box'])).status, 0);
  t.same(JSON.parse((await run(['ls', '--json'])).stdout), []);
  t.same(JSON.parse((await run(['resources', '--json'])).stdout), []);
  t.same(mountsUnder(dir), [], 'nothing left mounted or pinned');
});

t.test('rm -f ends a running container and everything in it', { skip }, async (t) => {
  const { dir, run } = cli(t);
  await run(['run', '-d', '--name', 'doomed', '--', 'sh', '-c', 'sleep 100 & sleep 100']);
  const hostPids = (JSON.parse((await run(['ps', 'doomed', '--json'])).stdout) as { hostPid: number }[]).map((p) => p.hostPid);
  t.equal((await run(['rm', '-f', 'doomed'])).status, 0);
  t.ok(hostPids.every((pid) => !alive(pid)), 'no process of it remains');
  t.same(mountsUnder(dir), []);
});

t.test('process lists: a container cannot see or signal another', { skip }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--name', 'a', '--', 'sleep', '60']);
  await run(['run', '-d', '--name', 'b', '--', 'sleep', '60']);
  const bSleep = (JSON.parse((await run(['ps', 'b', '--json'])).stdout) as { hostPid: number; containerPid: number }[]).find((p) => p.containerPid === 2)!;
  const probe = await run(['exec', 'a', '--', 'sh', '-c', `for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done | grep -c '^sleep$'; kill -0 ${bSleep.hostPid}; echo kill=$?`]);
  t.match(probe.stdout, /^1\n/, 'a sees one sleep, its own: not b\'s');
  t.match(probe.stdout, /kill=1/, 'and cannot signal b\'s sleep by its host PID');
  await run(['rm', '-f', 'a']);
  await run(['rm', '-f', 'b']);
});

t.test('a hostname change inside is seen by every process of the container and nobody else', { skip }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--no-jail', '--name', 'h1', '--', 'sleep', '60']);
  await run(['run', '-d', '--name', 'h2', '--', 'sleep', '60']);
  t.equal((await run(['exec', 'h1', '--', 'hostname', 'renamed'])).status, 0);
  t.equal((await run(['exec', 'h1', '--', 'hostname'])).stdout, 'renamed\n');
  t.equal((await run(['exec', 'h2', '--', 'hostname'])).stdout, 'fusejail\n', 'another container keeps its own');
  t.not((await run(['exec', 'h2', '--', 'hostname', 'mine'])).status, 0, 'a jailed container cannot rename its context');
  t.equal((await run(['hostname', 'h2'])).stdout, 'fusejail\n');
  t.equal((await run(['hostname', 'h2', 'set-from-host'])).status, 0, 'the host may rename a jailed container');
  t.equal((await run(['exec', 'h2', '--', 'hostname'])).stdout, 'set-from-host\n', 'and its processes see it at once');
  const bad = await run(['hostname', 'h2', 'x'.repeat(65)]);
  t.equal(bad.status, 1);
  t.match(bad.stderr, 'is longer than 64 bytes');
  await run(['rm', '-f', 'h1']);
  await run(['rm', '-f', 'h2']);
});

t.test('names: invalid, taken, unknown, ambiguous', { skip }, async (t) => {
  const { run } = cli(t);
  const bad = await run(['run', '-d', '--name', 'no spaces', '--', 'true']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, 'container name "no spaces" must be 1-64 letters');
  await run(['run', '-d', '--name', 'twin1', '--', 'sleep', '60']);
  await run(['run', '-d', '--name', 'twin2', '--', 'sleep', '60']);
  const taken = await run(['run', '-d', '--name', 'twin1', '--', 'true']);
  t.equal(taken.stderr, 'fusejail: a container named twin1 already exists\n');
  t.equal((await run(['exec', 'twin', '--', 'true'])).stderr, 'fusejail: container name "twin" is ambiguous (twin1, twin2)\n');
  t.equal((await run(['exec', 'none', '--', 'true'])).stderr, 'fusejail: no container named "none"\n');
  t.equal((await run(['kill', 'twin1', 'NOPE'])).stderr, 'fusejail: unknown signal "SIGNOPE"\n');
  await run(['rm', '-f', 'twin1']);
  await run(['rm', '-f', 'twin2']);
});

t.test('a shell script runs 200 exec commands against one container, each output and status right', { skip }, async (t) => {
  const { dir, run } = cli(t);
  await run(['run', '-d', '--name', 'svc', '--', 'sleep', '600']);
  const script = `set -eu
bad=0
for i in $(seq 1 200); do
  set +e
  out=$(${fusejail} exec svc -- sh -c "echo n=$i; exit $((i % 7))")
  status=$?
  set -e
  if [ "$out" != "n=$i" ] || [ "$status" != "$((i % 7))" ]; then bad=$((bad + 1)); echo "run $i: '$out' $status"; fi
done
echo bad=$bad`;
  const result = await new Promise<string>((resolve) =>
    execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', `FUSEJAIL_STATE_DIR=${dir}`, 'bash', '-c', script], { timeout: 300_000 }, (_err, stdout) => resolve(stdout)),
  );
  t.match(result, /bad=0$/m, result.split('\n').slice(0, 3).join(' '));
  await run(['rm', '-f', 'svc']);
});

t.test('SIGKILL of the supervisor during a run: no sandboxed process remains; the next command cleans up and works', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const attached = run(['run', '--', 'sleep', '60']);
  await run(['run', '-d', '--name', 'bg', '--', 'sleep', '60']);
  const pids = (JSON.parse((await run(['ps', 'bg', '--json'])).stdout) as { hostPid: number }[]).map((p) => p.hostPid);
  process.kill(Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8')), 'SIGKILL');
  t.ok(await until(async () => pids.every((p) => !alive(p))), 'the detached container\'s processes died with their list');
  const cut = await attached;
  t.not(cut.status, 0, 'the attached run ends with the supervisor');
  t.equal((await run(['run', '--', 'echo', 'works'])).stdout, 'works\n', 'the next command starts a new supervisor, which works');
  t.match(readFileSync(join(dir, 'supervisor.log'), 'utf8'), /cleared a stale hostname context pin/);
  t.equal(mountsUnder(dir).length, 0);
});
