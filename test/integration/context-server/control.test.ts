// The control channel: table edits seen at once, locate + handle across servers, expose, EOF.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ContextServer } from '../../../src/context-server/server.js';
import type { Located } from '../../../src/context-server/table.js';
import { mountedHere } from '../../../src/host/mounts.js';
import { contextServerUnavailable, hostDir, ramfsRoot, startContext } from '../../helpers/context-server.js';
import { code, sh } from '../../helpers/fuse.js';

const skip = contextServerUnavailable();

const rejection = (p: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> =>
  p.then(
    () => undefined,
    (e: unknown) => e as { code?: string; message?: string },
  );

t.test('mount-rm and mount-add are seen at once by a process that looked the names up', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot(), { op: 'mount', mount: { type: 'ramfs', target: '/m', readOnly: false, size: 1 << 20, mode: 0o755 } }]);
  writeFileSync(join(c.root, 'm/x'), 'x');
  t.ok(statSync(join(c.root, 'm/x')).isFile());
  t.ok(readdirSync(c.root).includes('m'));
  t.equal(await c.server.ask({ op: 'mount-rm', target: '/m' }), null);
  t.equal(code(() => statSync(join(c.root, 'm/x'))), 'ENOENT', 'the removed mount is gone for this very process');
  t.equal(code(() => statSync(join(c.root, 'm'))), 'ENOENT');
  t.notOk(readdirSync(c.root).includes('m'), 'and from the listing');
  t.equal(code(() => statSync(join(c.root, 'new'))), 'ENOENT', 'a negative entry is cached now');
  const src = hostDir(t, 'add');
  writeFileSync(join(src, 'f'), 'added');
  await c.server.ask({ op: 'mount-add', mount: { type: 'bind', target: '/new', readOnly: true, source: src } });
  t.equal(readFileSync(join(c.root, 'new/f'), 'utf8'), 'added', 'mount-add is seen at once');
  t.ok(readdirSync(c.root).includes('new'));
  await c.server.ask({ op: 'mount-add', mount: { type: 'mountpoint', target: '/deep/er/dev', readOnly: true, fs: 'devpts' } });
  t.ok(statSync(join(c.root, 'deep/er')).isDirectory(), 'synthesised parents appear with the mount');
  const busy = await rejection(c.server.ask({ op: 'mount-add', mount: { type: 'bind', target: '/new', readOnly: true, source: src } }));
  t.equal(busy?.code, 'EBUSY');
  t.equal((await rejection(c.server.ask({ op: 'mount-rm', target: '/nothing' })))?.code, 'ENODEV');
  t.equal((await rejection(c.server.ask({ op: 'mount-rm', target: '/' })))?.code, 'EBUSY');
  await c.server.ask({ op: 'mount-rm', target: '/deep/er/dev' });
  t.equal(code(() => statSync(join(c.root, 'deep'))), 'ENOENT', 'synthesised parents go with it');
});

t.test('locate + handle: two servers share live files', { skip }, async (t) => {
  const a = await startContext(t, [ramfsRoot(), { op: 'mkdir', path: '/data', mode: 0o755 }]);
  writeFileSync(join(a.root, 'data/from-a'), 'written in a');
  const located = (await a.server.ask({ op: 'locate', path: '/data' })) satisfies Located;
  t.equal(located.kind, 'directory');
  t.match(located.handle, new RegExp(`^/proc/${a.server.pid}/fd/\\d+$`));
  const b = await startContext(t, [ramfsRoot()]);
  await b.server.ask({ op: 'mount-add', mount: { type: 'handle', target: '/shared', readOnly: false, handle: located.handle, source: '/data' } });
  t.equal(readFileSync(join(b.root, 'shared/from-a'), 'utf8'), 'written in a');
  writeFileSync(join(b.root, 'shared/from-b'), 'written in b');
  t.equal(readFileSync(join(a.root, 'data/from-b'), 'utf8'), 'written in b', 'a write through one is seen in the other');
  writeFileSync(join(b.root, 'shared/from-a'), 'rewritten in b, longer');
  t.equal(readFileSync(join(a.root, 'data/from-a'), 'utf8'), 'rewritten in b, longer', 'what a had cached before locate is not served stale');
  t.equal((await rejection(a.server.ask({ op: 'locate', path: '/nope' })))?.code, 'ENOENT');
  sh(`mkfifo '${a.root}/fifo'`);
  t.equal((await rejection(a.server.ask({ op: 'locate', path: '/fifo' })))?.code, 'EINVAL');
  await b.server.ask({ op: 'mount-rm', target: '/shared' });
  t.equal(await a.server.ask({ op: 'unlocate', handle: located.handle }), null);
  t.equal((await rejection(a.server.ask({ op: 'unlocate', handle: located.handle })))?.code, 'ENOENT');
});

t.test('share: the same live files at a second target of one context', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot(), { op: 'mkdir', path: '/src', mode: 0o755 }, { op: 'mount', mount: { type: 'share', target: '/again', readOnly: true, from: '/src' } }]);
  writeFileSync(join(c.root, 'src/f'), 'live');
  t.equal(readFileSync(join(c.root, 'again/f'), 'utf8'), 'live');
  t.equal(code(() => writeFileSync(join(c.root, 'again/g'), 'x')), 'EROFS');
});

t.test('expose serves the same root at a second directory; EOF unmounts both', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot()]);
  writeFileSync(join(c.root, 'f'), 'same');
  t.equal(await c.server.ask({ op: 'expose', dir: c.exposed }), null);
  t.equal(readFileSync(join(c.exposed, 'f'), 'utf8'), 'same');
  mkdirSync(join(c.root, 'inside'));
  t.equal((await rejection(c.server.ask({ op: 'expose', dir: join(c.root, 'inside') })))?.code, 'EBUSY', 'never inside its own mount');
  t.equal((await rejection(c.server.ask({ op: 'expose', dir: join(c.exposed, 'inside') })))?.code, 'EBUSY');
  const full = hostDir(t, 'full');
  writeFileSync(join(full, 'x'), '');
  t.equal((await rejection(c.server.ask({ op: 'expose', dir: full })))?.code, 'ENOTEMPTY');
  t.equal((await rejection(c.server.ask({ op: 'expose', dir: join(full, 'x') })))?.code, 'ENOTDIR');
  t.equal((await rejection(c.server.ask({ op: 'expose', dir: join(full, 'none') })))?.code, 'ENOENT');
  t.equal(mountedHere(c.root)?.fsType, 'fuse.fusejail');
  await c.server.stop();
  t.notOk(mountedHere(c.exposed), 'the exposed dir is unmounted');
  t.notOk(mountedHere(c.root), 'the mountpoint is unmounted');
});

t.test('SIGTERM, SIGINT and SIGHUP unmount and exit 0', { skip }, async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const c = await startContext(t, [ramfsRoot()]);
    await c.server.ask({ op: 'expose', dir: c.exposed });
    const exit = new Promise<{ code: number | null }>((res) => c.server.onExit(res));
    process.kill(c.server.pid, signal);
    t.equal((await exit).code, 0, `${signal}: exit 0`);
    t.notOk(mountedHere(c.root), `${signal}: the mountpoint is unmounted`);
    t.notOk(mountedHere(c.exposed), `${signal}: the exposed dir is unmounted`);
  }
});

t.test('a bad serve request fails with a reason', { skip }, async (t) => {
  const dir = hostDir(t, 'bad');
  const err = await rejection(
    ContextServer.start({ mountpoint: dir, fsname: 'fusejail-test', table: [{ op: 'mkdir', path: '/x', mode: 0o755 }], exec: { jailed: false, allow: null } }),
  );
  t.equal(err?.code, 'ENOENT', 'a table without a root has nowhere to mkdir');
  const empty = await rejection(ContextServer.start({ mountpoint: dir, fsname: 'fusejail-test', table: [], exec: { jailed: false, allow: null } }));
  t.equal(empty?.code, 'EINVAL');
  t.match(empty?.message, 'nothing is mounted at /');
});

t.test('open handles into a removed mount fail cleanly; the server keeps serving', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot(), { op: 'mount', mount: { type: 'ramfs', target: '/m', readOnly: false, size: 1 << 20, mode: 0o755 } }]);
  mkdirSync(join(c.root, 'm/d'));
  writeFileSync(join(c.root, 'm/d/f'), 'x');
  const probe = `
import os, sys, time
fd = os.open('${c.root}/m/d', os.O_RDONLY)
f = os.open('${c.root}/m/d/f', os.O_RDONLY)
os.chdir('${c.root}/m/d')
sys.stdout.write('ready\\n'); sys.stdout.flush()
sys.stdin.readline()
out = []
for fn in (lambda: os.listdir('.'), lambda: os.stat('f'), lambda: os.read(f, 1), lambda: os.fstat(fd)):
    try: fn(); out.append('ok')
    except OSError as e: out.append(e.strerror)
print(out)
`;
  const { spawn } = await import('node:child_process');
  const p = spawn('python3', ['-c', probe]);
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((res) => p.stdout.once('data', () => res()));
  await c.server.ask({ op: 'mount-rm', target: '/m' });
  p.stdin.end('go\n');
  await new Promise<void>((res) => p.on('exit', () => res()));
  t.comment(out.trim());
  t.match(out, /ready\n\[.*\]/, 'the process got answers (errors or data), not a hang');
  t.match(out, /Stale file handle|No such file/, 'names under the removed mount fail');
  t.equal(readdirSync(c.root).includes('m'), false);
  writeFileSync(join(c.root, 'after'), 'still serving');
  t.equal(readFileSync(join(c.root, 'after'), 'utf8'), 'still serving');
});

t.test('links across mounts are EXDEV; a renamed directory keeps its children reachable', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot(), { op: 'mount', mount: { type: 'ramfs', target: '/m', readOnly: false, size: 1 << 20, mode: 0o755 } }]);
  writeFileSync(join(c.root, 'm/f'), 'x');
  t.match(sh(`ln '${c.root}/m/f' '${c.root}/g'`).stderr, 'Invalid cross-device link');
  mkdirSync(join(c.root, 'a/b/c'), { recursive: true });
  writeFileSync(join(c.root, 'a/b/c/f'), 'deep');
  t.equal(readFileSync(join(c.root, 'a/b/c/f'), 'utf8'), 'deep');
  t.equal(sh(`mv '${c.root}/a' '${c.root}/z' && cat '${c.root}/z/b/c/f'`).stdout, 'deep');
  t.equal(sh(`python3 -c "import os; os.rename('${c.root}/z/b', '${c.root}/m/b')" 2>&1`).stdout.includes('Invalid cross-device link'), true, 'rename(2) across mounts is EXDEV');
  t.equal(sh(`mv '${c.root}/z/b' '${c.root}/m/b' && cat '${c.root}/m/b/c/f'`).stdout, 'deep', 'so mv(1) copies');
  t.equal(sh(`test -e '${c.root}/z/b'`).status, 1);
  t.equal(sh(`mv '${c.root}/z' '${c.root}/y' && ls '${c.root}/y' | wc -l`).stdout.trim(), '0');
});

t.test('a missing binary is NativeMissing', async (t) => {
  const err = await rejection(
    ContextServer.start({ mountpoint: '/nonexistent', fsname: 'x', table: [], exec: { jailed: false, allow: null } }, { program: '/nonexistent/context-server' }),
  );
  t.equal(err?.code, 'NATIVE_MISSING');
});
