// The supervisor's resource lists through the CLI: SerenityOS's types, indices and refusals.
import { createConnection } from 'node:net';
import { chmodSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, serve } from '../../helpers/fuse.js';
import { baseLayout, plan } from '../../helpers/launcher.js';
import { alive, cli, mountsUnder } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

t.test('unshare create: per-type indices from 1, SerenityOS type numbers, real resources', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const created: Record<string, string[]> = {};
  for (const type of ['process-list', 'vfs-context', 'hostname-context', 'process-list', 'hostname-context']) {
    const r = await run(['unshare', 'create', type]);
    t.equal(r.status, 0, `${type}: ${r.stderr}`);
    (created[type] ??= []).push(r.stdout.trim());
  }
  t.same(created, { 'process-list': ['1', '2'], 'vfs-context': ['1'], 'hostname-context': ['1', '2'] }, 'each type counts on its own');
  const list = JSON.parse((await run(['resources', '--json'])).stdout) as { type: string; typeNumber: number; index: number; users: number; detail: Record<string, string | number> }[];
  t.same(list.map((r) => [r.type, r.typeNumber, r.index, r.users]), [
    ['process-list', 1, 1, 0],
    ['process-list', 1, 2, 0],
    ['vfs-context', 2, 1, 0],
    ['hostname-context', 3, 1, 0],
    ['hostname-context', 3, 2, 0],
  ]);
  const vfs = list.find((r) => r.type === 'vfs-context')!;
  t.equal(vfs.detail.root, join(dir, 'vfs/1/root'));
  t.same(readdirSync(String(vfs.detail.root)), [], 'a new VFS root context is an empty RAMFS, served at its root');
  t.ok(mountsUnder(dir).some((l) => l.includes('fuse.fusejail')), 'and it is a FUSE mount');
  const init = list.find((r) => r.type === 'process-list')!;
  t.match(readFileSync(`/proc/${init.detail.initHostPid}/comm`, 'utf8'), 'fusejail-init');
  t.ok(existsSync(String(list.find((r) => r.type === 'hostname-context')!.detail.pin)));
  const table = await run(['resources']);
  t.match(table.stdout, /^TYPE\s+INDEX\s+USERS\s+DETAIL$/m);
});

t.test('bad input changes nothing and is named; the supervisor keeps serving', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const bad = await run(['unshare', 'create', 'bogus']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, 'Given: "bogus"');
  t.equal((await run(['resources'])).status, 0, 'starts the supervisor on demand');
  const answers = await new Promise<string[]>((resolve) => {
    const socket = createConnection(join(dir, 'supervisor.sock'));
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
      if (text.split('\n').length > 5) socket.end();
    });
    socket.on('close', () => resolve(text.trim().split('\n')));
    socket.write('not json\n');
    socket.write('{"v":2,"id":1,"op":"resources"}\n');
    socket.write('{"v":1,"id":2,"op":"create","type":"bogus"}\n');
    socket.write(`{"v":1,"id":3,"op":"resources","pad":"${'x'.repeat(1_100_000)}"}\n`);
    socket.write('{"v":1,"id":4,"op":"resources"}\n');
  });
  const parsed = answers.map((a) => JSON.parse(a) as { id: number; ok: boolean; error?: { code: string; message: string } });
  t.same(parsed.slice(0, 4).map((a) => [a.ok, a.error?.code, a.error?.message]), [
    [false, 'EINVAL', 'request: not valid JSON'],
    [false, 'EINVAL', 'request: protocol version 2 is not 1'],
    [false, 'EINVAL', 'request: unknown resource type "bogus"'],
    [false, 'EINVAL', 'request: longer than the protocol allows'],
  ]);
  t.same([parsed[4]!.id, parsed[4]!.ok], [4, true], 'and the next request on the same connection is answered');
  t.same(JSON.parse((await run(['resources', '--json'])).stdout), [], 'nothing was created');
});

t.test('a jailed process changes nothing through the supervisor (EPERM, naming the request); it may still look', { skip }, async (t) => {
  // NOTE: a FUSE mount cannot carry a Unix socket, so a container cannot reach the supervisor's
  // socket through its root yet (issue 4: the launcher will bind it). The refusal is checked on
  // the supervisor itself, with the pid of a real jailed process.
  const { Supervisor, isJailed } = await import('../../../src/supervisor/supervisor.js');
  const { Launch } = await import('../../../src/launcher/launch.js');
  const { tempDir } = await import('../../helpers/fuse.js');
  const s = await serve(t, { hostname: null, layout: baseLayout() });
  const jailed = new Launch(plan(s.root, ['sleep', '5']), { kind: 'pipes' });
  const exited = new Promise((r) => jailed.onExit(r));
  const { hostPid } = await jailed.started;
  t.ok(isJailed(hostPid), 'a process fusejail jailed is recognised (no_new_privs, seccomp, empty bounding set)');
  t.notOk(isJailed(process.pid), 'this test process is not');
  const supervisor = new Supervisor(tempDir('sup'));
  t.teardown(() => supervisor.teardown());
  const peer = { pid: hostPid, uid: 0 };
  const proc = { argv: ['true'], env: [], cwd: '/', user: { uid: 0, gid: 0, groups: [] } };
  type Req = Parameters<InstanceType<typeof Supervisor>['handle']>[0];
  const changing: Req[] = [
    { v: 1, id: 1, op: 'create', type: 'process-list' },
    { v: 1, id: 2, op: 'hostname', container: 'c', set: 'other' },
    { v: 1, id: 3, op: 'rm', container: 'c', force: true },
    { v: 1, id: 4, op: 'kill', container: 'c', signal: 'SIGKILL' },
    { v: 1, id: 5, op: 'shutdown' },
    { v: 1, id: 6, op: 'expose', container: 'c', dir: '/tmp' },
    { v: 1, id: 7, op: 'mount-add', container: 'c', mount: { kind: 'ramfs', target: '/x' } },
    { v: 1, id: 8, op: 'mount-rm', container: 'c', target: '/x' },
    { v: 1, id: 9, op: 'mount-copy', from: { container: 'c', path: '/' }, to: { container: 'c', path: '/y' } },
  ];
  for (const request of changing) {
    await t.rejects(supervisor.handle(request, peer), { code: 'EPERM', message: `request "${request.op}": a jailed process (pid ${hostPid}) may not change anything` }, request.op);
  }
  await t.rejects(supervisor.run({ v: 1, id: 10, op: 'run', config: {}, process: proc, terminal: null, detach: true }, peer, () => {}), { code: 'EPERM', message: /request "run"/ }, 'run');
  await t.rejects(supervisor.exec({ v: 1, id: 11, op: 'exec', container: 'c', process: proc, terminal: null }, peer, () => {}), { code: 'EPERM', message: /request "exec"/ }, 'exec');
  t.same(supervisor.resources(), [], 'nothing was created');
  t.same(await supervisor.handle({ v: 1, id: 12, op: 'ls' }, peer), [], 'a read-only request is answered');
  await t.rejects(supervisor.handle({ v: 1, id: 13, op: 'hostname', container: 'c' }, peer), { code: 'ENOENT' }, 'reading a hostname is not refused as a change');
  jailed.kill('SIGTERM');
  await exited;
});

t.test('stop leaves nothing; after a SIGKILL the next start clears what was left and says so', { skip }, async (t) => {
  const { dir, run } = cli(t);
  for (const type of ['process-list', 'vfs-context', 'hostname-context']) await run(['unshare', 'create', type]);
  t.equal(mountsUnder(dir).length, 2, 'a FUSE root and a namespace pin');
  t.equal((await run(['daemon', '--stop'])).stdout, 'supervisor stopped\n');
  t.same(mountsUnder(dir), [], 'no mount or pin left');
  for (const type of ['process-list', 'vfs-context', 'hostname-context']) await run(['unshare', 'create', type]);
  const list = JSON.parse((await run(['resources', '--json'])).stdout) as { detail: Record<string, number> }[];
  process.kill(Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8')), 'SIGKILL');
  const [init, server] = [list[0]!.detail.initHostPid!, list[1]!.detail.serverPid!];
  for (const end = Date.now() + 5000; (alive(init) || alive(server)) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
  t.notOk(alive(init), 'the process list died with its control pipe');
  t.notOk(alive(server), 'the context server unmounted and exited');
  t.equal(mountsUnder(dir).length, 1, 'only the namespace pin outlives a SIGKILL');
  t.equal((await run(['resources'])).status, 0);
  t.same(mountsUnder(dir), [], 'the next start cleared it');
  t.match(readFileSync(join(dir, 'supervisor.log'), 'utf8'), `cleared a stale hostname context pin at ${dir}/ns/uts-1`);
});

t.test('a state directory open to others is refused', { skip }, async (t) => {
  const { dir, run } = cli(t);
  chmodSync(dir, 0o755);
  const r = await run(['resources']);
  t.equal(r.status, 1);
  t.match(r.stderr, `state directory ${dir} is open to others (mode 755); it must be 0700`);
});
