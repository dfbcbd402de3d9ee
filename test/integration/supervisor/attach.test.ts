// unshare_attach by index, SerenityOS's removal rules, and the run flags that shape a container.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, tempDir } from '../../helpers/fuse.js';
import { cli, mountsUnder, until } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

type Resources = { type: string; index: number; users: number }[];

t.test('containers attached to one process list and hostname context by index; removed with the last of them', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const list = (await run(['unshare', 'create', 'process-list'])).stdout.trim();
  const uts = (await run(['unshare', 'create', 'hostname-context'])).stdout.trim();
  await run(['run', '-d', '--name', 'one', '--process-list', list, '--hostname-context', uts, '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'two', '--process-list', list, '--hostname-context', uts, '--', 'sh', '-c', 'sleep 600 & sleep 600']);
  await run(['run', '-d', '--name', 'other', '--', 'sleep', '600']);
  const seen = (await run(['exec', 'one', '--', 'ps', '-o', 'args='])).stdout;
  t.equal(seen.split('\n').filter((l) => l.startsWith('sleep 600')).length, 3, 'one sees two\'s processes: one list');
  t.notMatch((await run(['exec', 'other', '--', 'ps', '-o', 'args='])).stdout, /sh -c/, 'other does not');
  await run(['hostname', 'one', 'together']);
  t.equal((await run(['exec', 'two', '--', 'hostname'])).stdout, 'together\n', 'one hostname context');
  t.not((await run(['exec', 'other', '--', 'hostname'])).stdout, 'together\n');

  const users = async () => Object.fromEntries((JSON.parse((await run(['resources', '--json'])).stdout) as Resources).map((r) => [`${r.type} ${r.index}`, r.users]));
  t.equal((await users())[`process-list ${list}`], 2);
  await run(['rm', '-f', 'two']);
  t.equal((await users())[`process-list ${list}`], 1, 'rm -f of two ends its processes only; the count follows at once');
  t.equal((await run(['exec', 'one', '--', 'ps', '-o', 'args='])).stdout.split('\n').filter((l) => l.startsWith('sleep')).length, 1, 'two\'s processes are gone from the list');
  await run(['rm', '-f', 'one']);
  const left = await users();
  t.notOk(`process-list ${list}` in left, 'the list went with the last container using it (its last member)');
  t.notOk(`hostname-context ${uts}` in left, 'and so did the hostname context');
  await run(['rm', '-f', 'other']);
  t.same(mountsUnder(dir), []);
});

t.test('a second container on the first one\'s root (--vfs-context); a context made by unshare outlives its users', { skip }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--name', 'owner', '--', 'sleep', '600']);
  await run(['exec', 'owner', '--', 'sh', '-c', 'echo mine > /tmp/f']);
  const index = (JSON.parse((await run(['ls', '--json'])).stdout) as { resources: { 'vfs-context': number } }[])[0]!.resources['vfs-context'];
  const guest = await run(['run', '--vfs-context', String(index), '--', 'sh', '-c', 'cat /tmp/f; echo guest > /tmp/g']);
  t.same([guest.status, guest.stdout], [0, 'mine\n'], 'the guest sees the owner\'s root');
  t.equal((await run(['exec', 'owner', '--', 'cat', '/tmp/g'])).stdout, 'guest\n', 'and writes to it');

  const standing = (await run(['unshare', 'create', 'vfs-context'])).stdout.trim();
  const empty = await run(['run', '--vfs-context', standing, '--', '/bin/sh']);
  t.equal(empty.status, 127, 'a new context is an empty RAMFS: nothing to run');
  const after = JSON.parse((await run(['resources', '--json'])).stdout) as Resources;
  t.ok(after.some((r) => r.type === 'vfs-context' && String(r.index) === standing), 'it stays after its user went (it still has its root mount)');

  for (const [args, message] of [
    [['run', '--vfs-context', '99', '--', 'true'], 'no vfs-context with index 99 (see fusejail resources)'],
    [['run', '--process-list', '0', '--', 'true'], '--process-list 0: expected an index (a positive whole number)'],
    [['run', '--process-list', '1', '--no-pid-isolation', '--', 'true'], '--process-list and --no-pid-isolation contradict each other'],
  ] as const) {
    const r = await run([...args]);
    t.same([r.status, r.stderr], [1, `fusejail: ${message}\n`], args.join(' '));
  }
  await run(['rm', '-f', 'owner']);
});

t.test('run --bind, --ramfs, --copy and -u', { skip }, async (t) => {
  const { run } = cli(t);
  const src = tempDir('src');
  writeFileSync(join(src, 'f'), 'original\n');
  const r = await run(['run', '--bind', `${src}:/rw`, '--bind', `${src}:/ro:ro`, '--ramfs', '/scratch', '--copy', `${src}:/private`, '--',
    'sh', '-c', 'echo rw > /rw/new; echo no > /ro/x 2>/dev/null || echo ro-refused; echo changed > /private/f; cat /private/f; touch /scratch/s && echo scratch-ok']);
  t.equal(r.stdout, 'ro-refused\nchanged\nscratch-ok\n');
  t.equal(readFileSync(join(src, 'new'), 'utf8'), 'rw\n', 'a bind writes through to the host');
  t.equal(readFileSync(join(src, 'f'), 'utf8'), 'original\n', 'a copy never does');
  t.notOk(existsSync(join(src, 'x')));
  t.equal((await run(['run', '-u', 'nobody', '--', 'id', '-u'])).stdout, '65534\n');
  t.equal((await run(['run', '-u', '1234:4321', '--', 'id'])).stdout, 'uid=1234 gid=4321 groups=4321\n');
  const bad = await run(['run', '-u', 'no-such-user', '--', 'true']);
  t.same([bad.status, bad.stderr], [1, 'fusejail: -u "no-such-user": expected UID[:GID] or a user name known on the host\n']);
  const badBind = await run(['run', '--bind', 'relative-only', '--', 'true']);
  t.same([badBind.status, badBind.stderr], [1, 'fusejail: --bind "relative-only": expected SOURCE:TARGET\n']);
});

t.test('--max-processes: a fork bomb stops at the limit, and the cgroup goes with the container', { skip: skip || (pidsHierarchy() ? false : 'this host has no pids cgroup controller') }, async (t) => {
  const { dir, run } = cli(t);
  // NOTE: the shell forks until the kernel refuses, then dies; what it started stays, counted.
  await run(['run', '-d', '--name', 'bomb', '--max-processes', '8', '--', 'sh', '-c', 'while :; do sleep 600 & done']);
  const ours = join(pidsHierarchy()!, `fusejail-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
  t.equal(readFileSync(join(ours, 'bomb', 'pids.max'), 'utf8').trim(), '8');
  t.ok(await until(async () => (await run(['ls'])).stdout.includes('exited')), 'the bomb\'s shell could not fork any more, and died');
  const members = (JSON.parse((await run(['ps', 'bomb', '--json'])).stdout) as { containerPid: number }[]).filter((p) => p.containerPid !== 1);
  t.ok(members.length >= 6 && members.length <= 8, `at most 8 processes at once (${members.length} left)`);
  await run(['rm', '-f', 'bomb']);
  t.notOk(existsSync(ours), 'no cgroup of ours left, not even the supervisor\'s directory');
  const bad = await run(['run', '--max-processes', '0', '--', 'true']);
  t.same([bad.status, bad.stderr], [1, 'fusejail: --max-processes 0: expected a positive whole number\n']);
});

t.test('every container gets a process limit and a devpts maximum by default', { skip: skip || (pidsHierarchy() ? false : 'this host has no pids cgroup controller') }, async (t) => {
  const { dir, run } = cli(t);
  const ours = join(pidsHierarchy()!, `fusejail-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
  t.teardown(() => run(['rm', '-f', 'bomb']));
  // NOTE: subshells that block reading a pipe nobody writes (fd 3: a background job's stdin is
  // /dev/null): forks without an exec, so the bomb is fast.
  await run(['run', '-d', '--name', 'bomb', '--', 'sh', '-c', 'sleep 600 | { exec 3<&0; while :; do (read x <&3) & done; }']);
  t.equal(readFileSync(join(ours, 'bomb', 'pids.max'), 'utf8').trim(), '4096', 'the default limit');
  const current = () => Number(readFileSync(join(ours, 'bomb', 'pids.current'), 'utf8'));
  t.ok(await until(() => current() >= 4090, 30000), `the bomb reached the limit (${current()})`);
  await new Promise((r) => setTimeout(r, 500));
  t.ok(current() <= 4096, `and stayed under it (${current()})`);
  await run(['rm', '-f', 'bomb']);
  t.notOk(existsSync(ours), 'its cgroup went with it');
  const pts = await run(['run', '--', 'grep', ' - devpts ', '/proc/self/mountinfo']);
  t.match(pts.stdout, /\bmax=256\b/, 'each devpts instance has a maximum');
  const lowered = await run(['run', '--max-processes', '5', '--', 'sh', '-c', 'for i in 1 2 3 4 5 6; do sleep 1 & done 2>&1; wait']);
  t.match(lowered.stdout + lowered.stderr, /fork|Resource temporarily unavailable/i, '--max-processes lowers it');
});

/** The pids controller's hierarchy: cgroup v1's own, or v2's when it offers pids. */
function pidsHierarchy(): string | undefined {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const v1 = lines.find((l) => / - cgroup \S+ \S*\bpids\b/.test(l))?.split(' ')[4];
  if (v1) return v1;
  const v2 = lines.find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
  return v2 && readFileSync(join(v2, 'cgroup.controllers'), 'utf8').includes('pids') ? v2 : undefined;
}
