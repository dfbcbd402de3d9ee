// Editing a running container's mounts: add, rm, copy (SerenityOS's copy_mount), expose; and events.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, tempDir } from '../../helpers/fuse.js';
import { cli, mountsUnder, until } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

const mountedAt = (dir: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);

t.test('a mount added to a running container appears in a running shell and under its root, and goes on mount rm', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const src = tempDir('src');
  // mkdtemp makes it 0700: only host root could read it, and container root does not read for it.
  chmodSync(src, 0o755);
  writeFileSync(join(src, 'f'), 'from the host\n');
  // A shell that was running before the mount existed reports what it sees, into its own /tmp.
  const loop = 'while :; do { cat /mnt/data/f 2>&1; ls /scratch 2>&1; } > /tmp/seen.new; mv /tmp/seen.new /tmp/seen; sleep 0.1; done';
  t.equal((await run(['run', '-d', '--name', 'box', '--', 'sh', '-c', loop])).status, 0);
  const root = (await run(['root', 'box'])).stdout.trim();
  const seen = () => (existsSync(join(root, 'tmp/seen')) ? readFileSync(join(root, 'tmp/seen'), 'utf8') : '');
  t.ok(await until(() => /No such file/.test(seen())), 'nothing at /mnt/data yet');

  t.equal((await run(['mount', 'add', 'box', '--bind', `${src}:/mnt/data:ro`])).status, 0);
  t.equal((await run(['mount', 'add', 'box', '--ramfs', '/scratch'])).status, 0);
  t.ok(await until(() => seen().startsWith('from the host\n')), 'the running shell sees the bind mount');
  t.equal(readFileSync(join(root, 'mnt/data/f'), 'utf8'), 'from the host\n', 'and so does the host, under fusejail root');
  const table = JSON.parse((await run(['mounts', 'box', '--json'])).stdout) as { target: string; type: string; source?: string; readOnly: boolean }[];
  t.same(table.slice(-2), [
    { target: '/mnt/data', type: 'bind', source: src, readOnly: true },
    { target: '/scratch', type: 'ramfs', readOnly: false },
  ]);
  const write = await run(['exec', 'box', '--', 'sh', '-c', 'echo x > /mnt/data/g']);
  t.match(write.stderr, /Read-only file system/, ':ro is read-only inside');
  t.equal((await run(['exec', 'box', '--', 'sh', '-c', 'echo kept > /scratch/k; cat /scratch/k'])).stdout, 'kept\n');

  t.equal((await run(['mount', 'rm', 'box', '/mnt/data'])).status, 0);
  // NOTE: the names were looked up a moment ago; the server expires them as it removes the mount.
  t.notOk(existsSync(join(root, 'mnt/data/f')), 'gone under the root at once');
  t.equal((await run(['exec', 'box', '--', 'test', '-e', '/mnt/data/f'])).status, 1, 'and for a new process inside at once');
  t.ok(await until(() => /No such file/.test(seen())), 'gone for the running shell');
  t.equal(readFileSync(join(src, 'f'), 'utf8'), 'from the host\n', 'the host files are untouched');

  const errors = [
    [['mount', 'add', 'box', '--ramfs', 'scratch'], '--ramfs "scratch": target "scratch" is not an absolute canonical path (it must be absolute)'],
    [['mount', 'add', 'box', '--ramfs', '/a/../b'], '--ramfs "/a/../b": target "/a/../b" is not an absolute canonical path (it must not contain a ".." component)'],
    [['mount', 'add', 'box', '--bind', '/no/such/dir:/x'], 'mount source "/no/such/dir" does not exist on the host'],
    [['mount', 'add', 'box', '--bind', `${src}:/x:rx`], `--bind "${src}:/x:rx": expected SOURCE:TARGET, SOURCE:TARGET:ro or SOURCE:TARGET:rw`],
    [['mount', 'add', 'box', '--ramfs', '/scratch'], 'mount target "/scratch" is already in use'],
    [['mount', 'add', 'box'], 'mount add: give --bind SRC:DST[:ro] or --ramfs DST'],
    [['mount', 'rm', 'box', '/mnt/data'], 'nothing is mounted at "/mnt/data"'],
    [['mount', 'rm', 'box', '/'], 'the root mount "/" cannot be removed from a context in use'],
    [['mount', 'add', 'nobox', '--ramfs', '/y'], 'no container named "nobox"'],
    [['mount', 'add', 'box', '--bind', `${dir}:/state`], `source ${dir} contains the mountpoint ${root}; serve it elsewhere`],
    [['mount', 'add', 'box', '--bind', `${root}/tmp:/self`], `mount source ${root}/tmp is inside container box's root; use fusejail mount copy`],
  ] as const;
  for (const [args, message] of errors) {
    const r = await run([...args]);
    t.same([r.status, r.stderr], [1, `fusejail: ${message}\n`], args.join(' '));
  }
  t.same((JSON.parse((await run(['mounts', 'box', '--json'])).stdout) as unknown[]).length, table.length - 1, 'the refusals changed nothing');
  await run(['rm', '-f', 'box']);
  t.same(mountsUnder(dir), []);
});

t.test('mount copy: the same live files in another container, or elsewhere in the same one', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const src = tempDir('src');
  writeFileSync(join(src, 'h'), 'host\n');
  await run(['run', '-d', '--name', 'a', '--bind', `${src}:/hostdir`, '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'b', '--', 'sleep', '600']);
  await run(['exec', 'a', '--', 'sh', '-c', 'mkdir /tmp/shared && echo one > /tmp/shared/f']);

  t.equal((await run(['mount', 'copy', 'a', '/tmp/shared', 'b', '/from-a'])).status, 0);
  t.equal((await run(['exec', 'b', '--', 'cat', '/from-a/f'])).stdout, 'one\n', 'b sees a\'s in-memory files');
  await run(['exec', 'b', '--', 'sh', '-c', 'echo two > /from-a/g']);
  t.equal((await run(['exec', 'a', '--', 'cat', '/tmp/shared/g'])).stdout, 'two\n', 'and a sees b\'s writes: one live filesystem');

  t.equal((await run(['mount', 'copy', 'a', '/hostdir', 'b', '/h'])).status, 0);
  const table = JSON.parse((await run(['mounts', 'b', '--json'])).stdout) as { target: string; source?: string }[];
  t.same(table.find((m) => m.target === '/h')?.source, src, 'a host bind is bound directly');

  t.equal((await run(['mount', 'copy', 'a', '/tmp/shared', 'a', '/again'])).status, 0);
  await run(['exec', 'a', '--', 'sh', '-c', 'echo three > /again/h']);
  t.equal((await run(['exec', 'a', '--', 'cat', '/tmp/shared/h'])).stdout, 'three\n', 'within one container, the same backend');

  const missing = await run(['mount', 'copy', 'a', '/tmp/none', 'b', '/x']);
  t.same([missing.status, missing.stderr], [1, 'fusejail: "/tmp/none" does not exist\n']);
  // NOTE: a copy across contexts holds the source's files by descriptor, not through its served
  // root, so copies both ways cannot make the servers wait on each other.
  t.equal((await run(['mount', 'copy', 'b', '/tmp', 'a', '/from-b'])).status, 0, 'a copy the other way too');
  await run(['exec', 'b', '--', 'sh', '-c', 'echo bee > /tmp/bee']);
  t.equal((await run(['exec', 'a', '--', 'cat', '/from-b/bee'])).stdout, 'bee\n');
  const bRoot = (await run(['root', 'b'])).stdout.trim();
  const into = await run(['mount', 'add', 'a', '--bind', `${bRoot}/tmp:/b-tmp`]);
  t.same([into.status, into.stderr], [1, `fusejail: mount source ${bRoot}/tmp is inside container b's root; use fusejail mount copy\n`]);

  await run(['kill', 'a', 'KILL']);
  t.ok(await until(async () => (await run(['ls'])).stdout.includes('exited')));
  t.equal((await run(['rm', 'a'])).status, 0, 'the source container can go first');
  t.equal((await run(['exec', 'b', '--', 'cat', '/from-a/f', '/from-a/g'])).stdout, 'one\ntwo\n', 'and its files stay live where they were copied');
  const after = JSON.parse((await run(['mounts', 'b', '--json'])).stdout) as { target: string }[];
  t.ok(after.some((m) => m.target === '/from-a') && after.some((m) => m.target === '/h'), 'b keeps both copies');
  await run(['rm', '-f', 'b']);
  t.same(mountsUnder(dir), []);
});

t.test('expose: the same root at another host directory, both ways, gone with the container', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const there = tempDir('exposed');
  await run(['run', '-d', '--name', 'e', '--', 'sleep', '600']);
  const r = await run(['expose', 'e', there]);
  t.same([r.status, r.stdout], [0, `${there}\n`]);
  writeFileSync(join(there, 'tmp/from-host'), 'h\n');
  t.equal((await run(['exec', 'e', '--', 'cat', '/tmp/from-host'])).stdout, 'h\n', 'a host edit is seen inside');
  await run(['exec', 'e', '--', 'sh', '-c', 'echo c > /tmp/from-inside']);
  t.equal(readFileSync(join(there, 'tmp/from-inside'), 'utf8'), 'c\n', 'and the reverse');
  t.same(readdirSync(there).sort(), readdirSync((await run(['root', 'e'])).stdout.trim()).sort(), 'one root, two directories');

  const notEmpty = tempDir('full');
  mkdirSync(join(notEmpty, 'x'));
  for (const [where, message] of [
    [notEmpty, `mountpoint ${notEmpty} is not empty`],
    ['/no/such/dir', 'mountpoint /no/such/dir does not exist'],
    [there, `mountpoint ${there} is already this root (served at ${there})`],
    [join(there, 'tmp'), `mountpoint ${there}/tmp is inside this root (served at ${there})`],
  ] as const) {
    const bad = await run(['expose', 'e', where]);
    t.same([bad.status, bad.stderr], [1, `fusejail: ${message}\n`], where);
  }
  await run(['rm', '-f', 'e']);
  t.notOk(mountedAt(there), 'the exposed directory is unmounted with the container');
  t.same(mountsUnder(dir), []);
});

t.test('events: what ran, and every launch the root allowed or refused', { skip }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--name', 'ev', '--', 'sleep', '600']);
  await run(['exec', 'ev', '--', '/usr/bin/true']);
  const su = await run(['exec', 'ev', '--', '/usr/bin/su', '-c', 'id']);
  t.equal(su.status, 126, 'a set-uid program is refused in a jailed container');
  const events = JSON.parse((await run(['events', 'ev', '--json'])).stdout) as { kind: string; path?: string; command?: string; status?: number; reason?: string }[];
  t.ok(events.some((e) => e.kind === 'start' && e.command === 'sleep 600'));
  t.ok(events.some((e) => e.kind === 'launch' && e.path === '/usr/bin/true'), 'the launch of true was seen');
  t.ok(events.some((e) => e.kind === 'exit' && e.status === 0));
  t.ok(events.some((e) => e.kind === 'refused' && e.path === '/usr/bin/su' && e.reason === 'setuid'), 'the refusal of su was recorded');
  t.match((await run(['events', 'ev'])).stdout, /refused .*\/usr\/bin\/su as uid 0: a set-uid\/set-gid file in a jailed container/);
  await run(['rm', '-f', 'ev']);
});
