// The supervisor's side of OCI containers, over its socket: oci-create, oci-started, oci-delete, and the verbs that list them.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { ContainerEvent, ContainerInfo, MountInfo } from '../../../src/protocol/messages.js';
import { code, fuseUnavailable, tempDir } from '../../helpers/fuse.js';
import { busyboxRootfs } from '../../helpers/oci-bundle.js';
import { cli, mountsUnder, until } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

type Reply = { ok: true; result: Record<string, unknown> } | { ok: false; error: { code: string; message: string } };

/** One request over the supervisor's socket (a new connection, as the OCI runtime makes one per verb). */
function ask(dir: string, request: Record<string, unknown>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(join(dir, 'supervisor.sock'));
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
      if (text.includes('\n')) {
        socket.end();
        resolve(JSON.parse(text) as Reply);
      }
    });
    socket.on('error', reject);
    socket.write(`${JSON.stringify({ v: 1, id: 1, ...request })}\n`);
  });
}

/** A supervisor with a private state directory (started by `resources`), a runtime root, a busybox rootfs. */
async function setup(t: { teardown(fn: () => unknown): void }) {
  const c = cli(t);
  const started = await c.run(['resources']);
  if (started.status !== 0) throw new Error(`the supervisor did not start: ${started.stderr}`);
  const scratch = tempDir('oci-sup');
  chmodSync(scratch, 0o755);
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const rootfs = busyboxRootfs(join(scratch, 'rootfs'));
  const root = join(scratch, 'state');
  mkdirSync(root);
  const oci = (id: string, extra: Record<string, unknown> = {}) => ({ root, id, bundle: scratch, rootfs, readonly: false, jail: false, ...extra });
  const ls = async () => JSON.parse((await c.run(['ls', '--json'])).stdout) as ContainerInfo[];
  t.teardown(async () => {
    for (const info of await ls()) if (info.oci) await ask(c.dir, { op: 'oci-delete', oci: { root: info.oci.root, id: info.oci.id } });
  });
  return { ...c, scratch, rootfs, root, oci, ls, ask: (r: Record<string, unknown>) => ask(c.dir, r) };
}

t.test('oci-create serves the rootfs write-through at a fresh root; ls, mounts, root and events know it', { skip }, async (t) => {
  const s = await setup(t);
  writeFileSync(join(s.scratch, 'config.json'), JSON.stringify({ process: { args: ['sh', '-c', 'echo hi'] } }));
  const created = await s.ask({ op: 'oci-create', oci: s.oci('box1') });
  t.match(created, { ok: true, result: { name: 'box1', root: join(s.dir, 'vfs/1/root') } });
  const root = join(s.dir, 'vfs/1/root');
  t.ok(mountsUnder(s.dir).some((l) => l.startsWith(`fusejail:${root} ${root} fuse.fusejail`)), 'a FUSE mount under the state directory');
  t.ok(readdirSync(root).includes('bin'), 'it shows the rootfs');
  writeFileSync(join(root, 'tmp/written'), 'through');
  t.equal(readFileSync(join(s.rootfs, 'tmp/written'), 'utf8'), 'through', 'a write reaches the rootfs itself (write-through, as podman diff and cp need)');

  const [info] = await s.ls();
  t.match(info, { name: 'box1', kind: 'oci', oci: { root: s.root, id: 'box1', bundle: s.scratch }, status: 'created', command: ['sh', '-c', 'echo hi'], root, resources: { 'vfs-context': 1 } });
  t.match((await s.run(['ls'])).stdout, /^NAME\s+STATUS.*KIND$/m);
  t.match((await s.run(['ls'])).stdout, new RegExp(`^box1\\s+created\\s.*oci ${s.root} box1$`, 'm'), 'the text table names the kind and the key');
  t.same(JSON.parse((await s.run(['mounts', 'box1', '--json'])).stdout) as MountInfo[], [{ target: '/', type: 'bind', source: s.rootfs, readOnly: false }]);
  t.equal((await s.run(['root', 'box'])).stdout, `${root}\n`, 'a unique prefix names it, as for any container');

  // NOTE: the init stands in: a process that is not the supervisor's child, as conmon's is not.
  const init = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => init.kill('SIGKILL'));
  mkdirSync(join(s.root, 'box1'));
  writeFileSync(join(s.root, 'box1/exec.fifo'), '');
  t.match(await s.ask({ op: 'oci-started', oci: { root: s.root, id: 'box1' }, pid: init.pid }), { ok: true, result: {} });
  t.match((await s.ls())[0], { status: 'created', oci: { pid: init.pid } }, 'created while the runtime\'s exec.fifo exists');
  t.match(await s.ask({ op: 'oci-started', oci: { root: s.root, id: 'box1' }, pid: init.pid }), { ok: true, result: {} }, 'the same pid again is no change');
  t.match(await s.ask({ op: 'oci-started', oci: { root: s.root, id: 'box1' }, pid: process.pid }), { ok: false, error: { code: 'EBUSY' } }, 'another pid is refused');
  rmSync(join(s.root, 'box1/exec.fifo'));
  t.equal((await s.ls())[0]!.status, 'running', 'running once started (the fifo gone, the init alive)');

  // NOTE: an exec through the root from the host is an execve the server sees.
  await new Promise((r) => spawn(join(root, 'bin/true'), { stdio: 'ignore' }).on('exit', r));
  init.kill('SIGKILL');
  t.ok(await until(async () => (await s.ls())[0]!.status === 'exited'), 'exited once the init is gone (polled: it is not the supervisor\'s child)');
  const events = JSON.parse((await s.run(['events', 'box1', '--json'])).stdout) as ContainerEvent[];
  t.match(events.map((e) => e.kind), ['start', 'launch', 'ended']);
  t.match(events[0], { kind: 'start', hostPid: init.pid, command: 'sh -c echo hi' });
  t.match(events[1], { kind: 'launch', path: '/bin/busybox' });
  t.match((await s.run(['events', 'box1'])).stdout, /ended\s+\d+\s+ended \(an OCI container's init/);

  t.match(await s.ask({ op: 'oci-delete', oci: { root: s.root, id: 'box1' } }), { ok: true, result: {} });
  t.same(mountsUnder(s.dir), [], 'its root is unmounted');
  t.same(await s.ls(), []);
  t.same(JSON.parse((await s.run(['resources', '--json'])).stdout), [], 'and its VFS root context released');
  t.equal(readFileSync(join(s.rootfs, 'tmp/written'), 'utf8'), 'through', 'the rootfs itself is untouched by the release');
});

t.test('keys and names: (root, id) once; a taken name gets -2, -3', { skip }, async (t) => {
  const s = await setup(t);
  t.match(await s.ask({ op: 'oci-create', oci: s.oci('web') }), { ok: true, result: { name: 'web' } });
  const again = await s.ask({ op: 'oci-create', oci: s.oci('web') });
  t.match(again, { ok: false, error: { code: 'EXISTS', message: `an OCI container with id web under root ${s.root} exists already` } });
  const otherRoot = join(s.scratch, 'other');
  mkdirSync(otherRoot);
  t.match(await s.ask({ op: 'oci-create', oci: s.oci('web', { root: otherRoot }) }), { ok: true, result: { name: 'web-2' } }, 'the same id under another root is another container');
  t.equal((await s.run(['run', '-d', '--name', 'box', '--', 'sleep', '30'])).status, 0);
  t.match(await s.ask({ op: 'oci-create', oci: s.oci('box') }), { ok: true, result: { name: 'box-2' } }, 'a fusejail run container\'s name is taken too');
  const run = await s.run(['run', '-d', '--name', 'web', '--', 'true']);
  t.match(run.stderr, 'a container named web already exists', 'and run refuses an OCI container\'s name');
  t.equal((await s.run(['rm', '-f', 'box'])).status, 0);
  t.match(await s.ask({ op: 'oci-delete', oci: { root: s.root, id: 'nope' } }), { ok: false, error: { code: 'NOT_FOUND', message: `no OCI container with id nope under root ${s.root}` } });
  t.match(await s.ask({ op: 'oci-started', oci: { root: s.root, id: 'nope' }, pid: process.pid }), { ok: false, error: { code: 'NOT_FOUND' } });
});

t.test('rm, kill, ps and exec of an OCI container are refused, naming the OCI runtime', { skip }, async (t) => {
  const s = await setup(t);
  await s.ask({ op: 'oci-create', oci: s.oci('c1') });
  const rm = await s.run(['rm', '-f', 'c1']);
  t.equal(rm.status, 1);
  t.match(rm.stderr, `container c1 is an OCI container (id c1 under root ${s.root}); remove it with its OCI runtime's delete`);
  t.match((await s.run(['kill', 'c1'])).stderr, `fusejail kill does not apply to container c1: it is an OCI container (id c1 under root ${s.root}), run by its OCI runtime (e.g. fusejail --root ${s.root} kill c1 TERM)`);
  t.match((await s.run(['ps', 'c1'])).stderr, 'fusejail ps does not apply to container c1');
  t.match((await s.run(['exec', 'c1', '--', 'true'])).stderr, 'fusejail exec does not apply to container c1');
  t.equal((await s.ls()).length, 1, 'still there');
});

t.test('readonly serves a read-only root; jail refuses set-uid launches through it', { skip }, async (t) => {
  const s = await setup(t);
  copyFileSync(join(s.rootfs, 'bin/busybox'), join(s.rootfs, 'bin/suid'));
  chmodSync(join(s.rootfs, 'bin/suid'), 0o4755);
  const ro = await s.ask({ op: 'oci-create', oci: s.oci('ro', { readonly: true }) });
  t.ok(ro.ok);
  const roRoot = (ro as { result: { root: string } }).result.root;
  t.equal(code(() => writeFileSync(join(roRoot, 'tmp/x'), 'x')), 'EROFS');
  const jailed = await s.ask({ op: 'oci-create', oci: s.oci('jailed', { jail: true }) });
  const jailRoot = (jailed as { result: { root: string } }).result.root;
  t.equal(code(() => execFileSync(join(jailRoot, 'bin/suid'), ['true'], { stdio: 'ignore' })), 'EPERM', 'a set-uid file does not run');
  const events = JSON.parse((await s.run(['events', 'jailed', '--json'])).stdout) as ContainerEvent[];
  t.match(events, [{ kind: 'refused', path: '/bin/suid', reason: 'setuid' }]);
  t.match((await s.ls()).find((c) => c.name === 'jailed'), { jail: true });
});

t.test('bad requests are refused, naming the field; nothing is created', { skip }, async (t) => {
  const s = await setup(t);
  const cases: [Record<string, unknown>, string, string | RegExp][] = [
    [s.oci('a', { rootfs: 'rootfs' }), 'EINVAL', 'oci.rootfs "rootfs" is not an absolute canonical path (it must be absolute)'],
    [s.oci('a', { rootfs: `${s.rootfs}/../rootfs` }), 'EINVAL', /must not contain a "\.\." component/],
    [s.oci('a', { rootfs: join(s.scratch, 'missing') }), 'ENOENT', `oci.rootfs ${join(s.scratch, 'missing')} does not exist`],
    [s.oci('a', { rootfs: join(s.rootfs, 'bin/busybox') }), 'ENOTDIR', 'is not a directory'],
    [s.oci('a/b'), 'EINVAL', 'oci.id "a/b" must be 1-1024 letters'],
    [s.oci('..'), 'EINVAL', 'oci.id ".."'],
    [s.oci('a', { root: 'rel' }), 'EINVAL', 'oci.root "rel"'],
    [s.oci('a', { readonly: 'yes' }), 'EINVAL', 'oci.readonly must be true or false'],
    [s.oci('a', { rootfs: '/' }), 'EINVAL', `oci.rootfs / holds the supervisor's state directory ${s.dir}`],
  ];
  for (const [oci, errCode, message] of cases) t.match(await s.ask({ op: 'oci-create', oci }), { ok: false, error: { code: errCode, message } }, JSON.stringify(oci));
  t.match(await s.ask({ op: 'oci-create' }), { ok: false, error: { code: 'EINVAL', message: 'request: "oci" must be an object with "root" and "id"' } });
  const first = await s.ask({ op: 'oci-create', oci: s.oci('a') });
  const served = (first as { result: { root: string } }).result.root;
  t.match(await s.ask({ op: 'oci-create', oci: s.oci('b', { rootfs: join(served, 'bin') }) }), { ok: false, error: { code: 'EINVAL', message: `is inside the root served at ${served}` } }, 'a served root is not a source');
  t.match(await s.ask({ op: 'oci-started', oci: { root: s.root, id: 'a' }, pid: -4 }), { ok: false, error: { code: 'EINVAL', message: 'pid -4 must be a positive integer' } });
  t.match(await s.ask({ op: 'oci-started', oci: { root: s.root, id: 'a' }, pid: 2 ** 22 + 7 }), { ok: false, error: { code: 'ENOENT' } });
  t.match(await s.ask({ op: 'oci-create', oci: s.oci('c', { rootfs: `${s.rootfs}/` }) }), { ok: true }, 'a trailing "/" (root.path "rootfs/") is dropped');
  t.same((await s.ls()).map((c) => c.name), ['a', 'c'], 'only the good ones');
});

t.test('daemon --stop is refused while OCI containers are registered; --force unmounts them', { skip }, async (t) => {
  const s = await setup(t);
  await s.ask({ op: 'oci-create', oci: s.oci('kept') });
  const stop = await s.run(['daemon', '--stop']);
  t.equal(stop.status, 1);
  t.match(stop.stderr, '1 OCI container(s) still use roots served here (kept); delete them with their OCI runtime first, or stop with --force');
  t.equal(mountsUnder(s.dir).length, 1, 'nothing was torn down');
  t.equal((await s.run(['daemon', '--stop', '--force'])).stdout, 'supervisor stopped\n');
  t.same(mountsUnder(s.dir), [], 'its root went with the supervisor');
});
