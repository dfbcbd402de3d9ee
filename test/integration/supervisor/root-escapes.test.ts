// The security review's findings on a container's root, each closed: the host is never reached through it.
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, sh, tempDir } from '../../helpers/fuse.js';
import { alive, cli, mountsUnder, until } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

t.test('a bind source replaced by a symlink between runs fails the next run instead of binding the link', { skip }, async (t) => {
  const { run } = cli(t);
  const d = tempDir('work');
  mkdirSync(join(d, 'sub/cache'), { recursive: true });
  const binds = ['--bind', `${d}:/work`, '--bind', `${d}/sub/cache:/cache`];
  const first = await run(['run', '--no-jail', ...binds, '--', 'sh', '-c', 'rmdir /work/sub/cache && ln -s / /work/sub/cache']);
  t.equal(first.status, 0, first.stderr);
  t.ok(lstatSync(join(d, 'sub/cache')).isSymbolicLink(), 'the container planted a symlink in place of the second source');
  const second = await run(['run', '--no-jail', ...binds, '--', 'ls', '/cache/etc']);
  t.equal(second.status, 1, 'the next run is refused');
  t.match(second.stderr, `${d}/sub/cache`, 'naming the source');
  t.notMatch(second.stdout, 'passwd', "the host's / was never bound");
});

t.test("the host view is the container's view: a container's symlink resolves inside its root", { skip }, async (t) => {
  const { run } = cli(t);
  const target = tempDir('victim');
  writeFileSync(join(target, 'note'), 'host file\n');
  await run(['run', '-d', '--name', 'c', '--', 'sleep', '600']);
  const links = `mkdir -p ${target} && ln -s ${target}/note /tmp/note && ln -s ../../../../../../..${target}/note /tmp/rel`;
  t.equal((await run(['exec', 'c', '--', 'sh', '-c', links])).status, 0);
  const root = (await run(['root', 'c'])).stdout.trim();
  sh(`echo hi > '${root}/tmp/note'; echo hi > '${root}/tmp/rel'`);
  t.equal(readFileSync(join(target, 'note'), 'utf8'), 'host file\n', 'writing through the host view never reached the host file');
  t.equal((await run(['exec', 'c', '--', 'cat', `${target}/note`])).stdout, 'hi\n', 'it wrote the file the link names inside the container');
});

t.test('a set-uid file in a read-write bind loses its set-id bits on every write', { skip }, async (t) => {
  const { run } = cli(t);
  const src = tempDir('suid');
  chmodSync(src, 0o755);
  for (const f of ['w', 'm', 't']) {
    writeFileSync(join(src, f), 'x'.repeat(8192));
    chmodSync(join(src, f), 0o4755);
  }
  const mmap = 'import mmap,os; f=os.open("/b/m",os.O_RDWR); m=mmap.mmap(f,4096,mmap.MAP_SHARED); m[0:4]=b"EVIL"; m.flush()';
  const r = await run(['run', '--no-jail', '--bind', `${src}:/b`, '--', 'sh', '-c', `echo evil >> /b/w && python3 -c '${mmap}' && truncate -s 10 /b/t`]);
  t.equal(r.status, 0, r.stderr);
  for (const f of ['w', 'm', 't']) t.equal(statSync(join(src, f)).mode & 0o6000, 0, `${f}: no set-id bit left after the write`);
  t.equal(readFileSync(join(src, 'm'), 'utf8').slice(0, 4), 'EVIL', 'the shared mapping did write');
});

t.test('a RAMFS has a size: df tells it, and writing past it is ENOSPC', { skip }, async (t) => {
  const { run } = cli(t);
  const dir = tempDir('size');
  const config = JSON.parse(readFileSync(new URL('../../../examples/default.json', import.meta.url), 'utf8')) as { layout: { target?: string; size?: string }[] };
  config.layout.find((e) => e.target === '/tmp')!.size = '8M';
  writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
  const df = await run(['run', '-f', join(dir, 'c.json'), '--', 'df', '-B1', '--output=size', '/tmp', '/root']);
  t.same(df.stdout.trim().split('\n').slice(1).map(Number), [8 * 2 ** 20, 2 ** 30], 'df reports each RAMFS size (8M as given, 1G by default), not a petabyte');
  const full = await run(['run', '-f', join(dir, 'c.json'), '--', 'sh', '-c', 'head -c 9M /dev/zero > /tmp/big']);
  t.not(full.status, 0);
  t.match(full.stderr, 'No space left on device');
});

t.test('one RAMFS mounted twice: a rename from one name into the other is EXDEV, nothing is lost', { skip }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--name', 'r', '--', 'sleep', '600']);
  await run(['exec', 'r', '--', 'sh', '-c', 'mkdir -p /tmp/a && echo kept > /tmp/a/f']);
  t.equal((await run(['mount', 'copy', 'r', '/tmp', 'r', '/tmp2'])).status, 0);
  const mv = await run(['exec', 'r', '--', 'python3', '-c', 'import os\ntry:\n os.rename("/tmp/a", "/tmp2/a/b")\nexcept OSError as e:\n print(e.strerror)']);
  t.match(mv.stdout, /Invalid cross-device link|Invalid argument/, 'the cycle is refused');
  t.equal((await run(['exec', 'r', '--', 'cat', '/tmp/a/f'])).stdout, 'kept\n');
});

t.test('a server killed alone breaks only its own container, which says so, and rm still cleans up', { skip }, async (t) => {
  const { dir, run } = cli(t);
  await run(['run', '-d', '--name', 'victim', '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'bystander', '--', 'sleep', '600']);
  const resources = JSON.parse((await run(['resources', '--json'])).stdout) as { type: string; index: number; detail: { serverPid?: number } }[];
  const pid = resources.find((r) => r.type === 'vfs-context' && r.index === 1)!.detail.serverPid!;
  process.kill(pid, 'SIGKILL');
  t.ok(await until(() => !alive(pid)));
  t.ok(await until(async () => (await run(['ls'])).stdout.includes('broken')), 'ls says the container is broken');
  const events = JSON.parse((await run(['events', 'victim', '--json'])).stdout) as { kind: string }[];
  t.ok(events.some((e) => e.kind === 'root-lost'), 'and so do its events');
  const exec = await run(['exec', 'victim', '--', 'true']);
  t.equal(exec.status, 125, 'fusejail could not run it');
  t.match(exec.stderr, 'its root is gone');
  t.equal((await run(['exec', 'bystander', '--', 'true'])).status, 0, 'the other container still works');
  t.equal((await run(['rm', '-f', 'victim'])).status, 0);
  t.notOk(mountsUnder(dir).some((l) => l.includes('/vfs/1/')), "the dead server's mount is gone after rm -f");
  await run(['rm', '-f', 'bystander']);
  t.same(mountsUnder(dir), []);
});

t.test('a dead server is cleared by daemon --stop too', { skip }, async (t) => {
  const { dir, run } = cli(t);
  await run(['run', '-d', '--name', 'v', '--', 'sleep', '600']);
  const resources = JSON.parse((await run(['resources', '--json'])).stdout) as { type: string; detail: { serverPid?: number } }[];
  process.kill(resources.find((r) => r.type === 'vfs-context')!.detail.serverPid!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  t.equal((await run(['daemon', '--stop'])).status, 0);
  t.same(mountsUnder(dir), []);
});

t.test('exec_allow cannot be bypassed through the dynamic loader: it runs only as the interpreter of an allowed program', { skip }, async (t) => {
  const { run } = cli(t);
  const dir = tempDir('allow');
  const config = JSON.parse(readFileSync(new URL('../../../examples/jailed-build.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  delete config.command;
  delete config.$schema;
  config.exec_allow = ['/usr/bin/dash', '/usr/bin/true'];
  writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
  const script = 'true; echo true=$?; /lib64/ld-linux-x86-64.so.2 /usr/bin/id -u; echo loader=$?; /usr/bin/id -u; echo id=$?';
  const r = await run(['run', '-f', join(dir, 'c.json'), '--', '/bin/sh', '-c', script]);
  t.match(r.stdout, /^true=0\nloader=126\nid=126\n$/, 'the listed dynamic program runs; the loader run directly and an unlisted program do not');
  t.notMatch(r.stdout, /^0$/m, 'id never ran');
});
