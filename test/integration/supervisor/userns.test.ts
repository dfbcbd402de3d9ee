// --userns: container root is the first id of an unprivileged host range, with capabilities only in its own namespace.
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fusejail, fuseUnavailable, serve, tempDir } from '../../helpers/fuse.js';
import { baseLayout, plan, run as launch } from '../../helpers/launcher.js';
import { cli, mountsUnder } from '../../helpers/supervisor.js';
import { userNamespaceMap } from '../../../src/resources/user-namespace.js';
import type { ContainerInfo, ProcessInfo, ResourceInfo } from '../../../src/protocol/messages.js';
import type { IdMap } from '../../../src/launcher/launch-plan.js';

function hostMap(): IdMap | string {
  try {
    return userNamespaceMap();
  } catch (err) {
    return `${(err as Error).message}`;
  }
}
const map = hostMap();
const skip = fuseUnavailable() || (typeof map === 'string' ? map : false);
const START = typeof map === 'string' ? 0 : map.uid;

/** A fresh host directory, removed at teardown. */
function scratch(t: { teardown(fn: () => unknown): void }, prefix: string): string {
  const dir = tempDir(prefix);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('inside --userns: uid_map is 0 START 65536, id -u is 0, exec joins the same namespace; ps, ls, resources name it', { skip }, async (t) => {
  const { run } = cli(t);
  const once = await run(['run', '--userns', '--', 'sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g']);
  t.equal(once.status, 0, once.stderr);
  t.same(once.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' ')), [`0 ${START} 65536`, `0 ${typeof map === 'string' ? 0 : map.gid} 65536`, '0', '0', '']);
  const host = await run(['run', '--no-userns', '--', 'sh', '-c', 'cat /proc/self/uid_map']);
  t.match(host.stdout, /^\s*0\s+0\s+4294967295$/m, 'without --userns: the host\'s ids (as on today\'s main)');

  await run(['run', '-d', '--name', 'u', '--userns', '--', 'sleep', '600']);
  t.teardown(() => run(['rm', '-f', 'u']));
  const inside = (await run(['exec', 'u', '--', 'sh', '-c', 'readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map'])).stdout.split('\n');
  const ls = (JSON.parse((await run(['ls', '--json'])).stdout) as ContainerInfo[])[0]!;
  t.equal(inside[0], ls.namespaces.user, 'exec joins the first process\'s user namespace');
  t.equal(inside[1], '0');
  t.same(ls.userns, { uid: START, gid: typeof map === 'string' ? 0 : map.gid, size: 65536 }, 'ls --json: the map');
  const ps = JSON.parse((await run(['ps', 'u', '--json'])).stdout) as ProcessInfo[];
  const sleeper = ps.find((p) => p.command === 'sleep 600')!;
  t.equal(sleeper.namespaces?.user, ls.namespaces.user, 'ps --json: the process\'s user namespace');
  t.same(sleeper.userns, ls.userns);
  t.notOk(ps.find((p) => p.containerPid === 1)!.userns, 'the list\'s init is not in it');
  t.match((await run(['ps', 'u'])).stdout, new RegExp(`^user namespace: ${ls.namespaces.user!.replace(/[[\]]/g, '\\$&')}, ids 0-65535 are host uid ${START}-${START + 65535}, gid `, 'm'));
  t.match((await run(['ls'])).stdout, new RegExp(`u\\s+running.*uid ${START}-${START + 65535}, gid`));
  const vfs = (JSON.parse((await run(['resources', '--json'])).stdout) as ResourceInfo[]).find((r) => r.type === 'vfs-context')!;
  t.match(vfs.detail.userns, `uid ${START}-${START + 65535}`, 'resources: its root is served for the map');
});

t.test('--no-jail --userns: container root\'s capabilities are only the namespace\'s: it cannot mount or rename the host\'s namespaces', { skip }, async (t) => {
  const { run } = cli(t);
  const script = 'grep ^CapEff: /proc/self/status; mount -t tmpfs none /tmp && echo MOUNTED; hostname other && echo RENAMED; true';
  const userns = await run(['run', '--no-jail', '--userns', '--', 'sh', '-c', script]);
  t.equal(userns.status, 0, userns.stderr);
  t.match(userns.stdout, /^CapEff:\s+0*1ffffffffff$/m, 'every capability, in its own namespace');
  t.notMatch(userns.stdout, /MOUNTED/, 'no mount: the mount namespace belongs to the host\'s user namespace');
  t.match(userns.stderr, /mount: \/tmp: permission denied/);
  t.notMatch(userns.stdout, /RENAMED/, 'no sethostname: nor does the UTS namespace');
  const plain = await run(['run', '--no-jail', '--no-userns', '--', 'sh', '-c', script]);
  t.match(plain.stdout, /MOUNTED\nRENAMED/, 'without --userns container root can do both (as on today\'s main)');
});

t.test('a read-write bind: host root\'s 0644 file is EACCES, a new file is owned by START on the host and by root inside; a 0600 root file is unreadable', { skip }, async (t) => {
  const { run } = cli(t);
  const dir = scratch(t, 'userns-bind');
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, 'hosts'), 'host\n', { mode: 0o644 });
  const secrets = scratch(t, 'userns-secrets');
  chmodSync(secrets, 0o755);
  writeFileSync(join(secrets, 'key'), 'secret\n', { mode: 0o600 });
  const r = await run(['run', '--userns', '--bind', `${dir}:/b`, '--bind', `${secrets}:/s:ro`, '--', 'sh', '-c', 'echo x >> /b/hosts; cat /s/key; echo new > /b/made; stat -c %u:%g /b/made']);
  t.match(r.stderr, /\/b\/hosts: Permission denied/, 'host root\'s file is not container root\'s');
  t.match(r.stderr, /\/s\/key: Permission denied/, 'a root-only host file under a read-only bind cannot be read');
  t.notMatch(r.stdout, /secret/);
  t.equal(readFileSync(join(dir, 'hosts'), 'utf8'), 'host\n', 'and it is unchanged');
  t.equal(r.stdout, '0:0\n', 'container root made it');
  const made = statSync(join(dir, 'made'));
  t.same([made.uid, made.gid], [START, typeof map === 'string' ? 0 : map.gid], 'the host sees the mapped ids');
  const plain = await run(['run', '--no-userns', '--bind', `${dir}:/b`, '--', 'sh', '-c', 'echo x >> /b/hosts && echo WROTE']);
  t.equal(plain.stdout, 'WROTE\n', 'without --userns container root writes it (as on today\'s main)');
});

t.test('/proc/sys/kernel/core_pattern stays the host\'s with the /proc masks off (a test-only plan)', { skip }, async (t) => {
  const s = await serve(t, { hostname: null, layout: baseLayout() });
  const before = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const r = await launch(plan(s.root, ['sh', '-c', 'grep -c . /proc/sys/kernel/core_pattern; echo "|/tmp/evil" > /proc/sys/kernel/core_pattern && echo WROTE; grep -E "^(Cap(Eff|Bnd)):" /proc/self/status'], {
    jail: false,
    mounts: [{ fs: 'proc', target: '/proc', read_only: false, unmasked: true }],
    userns: map as IdMap,
  }));
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^1\n/, 'it can be read: no mask hides it');
  t.notMatch(r.stdout, /WROTE/);
  t.match(r.stderr, /core_pattern: Permission denied/, 'container root is not host root: EACCES, not EROFS');
  t.match(r.stdout, /^CapEff:\s+0*1ffffffffff$/m, 'though every capability of its namespace is there');
  t.equal(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), before);
});

t.test('the launcher refuses a plan whose map starts at host 0 or cannot hold its user', { skip }, async (t) => {
  const s = await serve(t, { hostname: null, layout: baseLayout() });
  const zero = await launch(plan(s.root, ['true'], { userns: { uid: 0, gid: 0, size: 65536 } }));
  t.same([zero.status, zero.stderr], [125, 'fusejail-launcher: plan: "userns" is missing or has the wrong type\n'], 'container root would be host root');
  const outside = await launch(plan(s.root, ['true'], { userns: map as IdMap, user: { uid: 65536, gid: 0, groups: [] } }));
  t.same([outside.status, outside.stderr], [125, 'fusejail-launcher: plan: user 65536:0 is outside the user namespace\'s 0-65535\n']);
});

/** The CLI with extra environment (for the supervisor it starts). */
function runWith(dir: string, env: Record<string, string>, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', '-u', 'SUDO_UID', '-u', 'SUDO_GID', `FUSEJAIL_STATE_DIR=${dir}`, ...vars, fusejail, ...args], (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('bad input: no subordinate range, a user outside 0-65535, a root served for the other kind: exit 1, named, nothing created', { skip }, async (t) => {
  const { dir, run } = cli(t);
  // NOTE: FUSEJAIL_TEST_SUBID_DIR is test-only: a host whose files have no "fusejail" range.
  const subids = scratch(t, 'subids');
  writeFileSync(join(subids, 'subuid'), 'someone:100000:65536\n');
  writeFileSync(join(subids, 'subgid'), 'someone:100000:65536\n');
  const none = await runWith(dir, { FUSEJAIL_TEST_SUBID_DIR: subids }, ['run', '--userns', '--', 'true']);
  t.same([none.status, none.stderr], [1, `fusejail: user_namespace: no subordinate range for "fusejail" in ${subids}/subuid (make deps adds one)\n`]);
  writeFileSync(join(subids, 'subuid'), 'fusejail:131072\n');
  const malformed = await runWith(dir, { FUSEJAIL_TEST_SUBID_DIR: subids }, ['run', '--userns', '--', 'true']);
  t.same([malformed.status, malformed.stderr], [1, `fusejail: user_namespace: a malformed subordinate range "fusejail:131072" (expected fusejail:START:COUNT) for "fusejail" in ${subids}/subuid (make deps adds one)\n`]);
  t.same(mountsUnder(dir), [], 'no root was served');
  t.same(JSON.parse((await runWith(dir, { FUSEJAIL_TEST_SUBID_DIR: subids }, ['resources', '--json'])).stdout), [], 'no resource made');
  await run(['daemon', '--stop']);

  const outside = await run(['run', '--userns', '-u', '70000', '--', 'true']);
  t.same([outside.status, outside.stderr], [1, 'fusejail: -u "70000": 70000 is outside the user namespace\'s ids 0-65535 (a user namespace)\n']);
  const file = join(scratch(t, 'userns-config'), 'c.json');
  writeFileSync(file, JSON.stringify({ jail: true, 'pid-isolation': true, hostname: null, user_namespace: true, user: '1000:70000', layout: baseLayout() }));
  const config = await run(['run', '-f', file, '--', 'true']);
  t.same([config.status, config.stderr], [1, `fusejail: ${file}: user: "1000:70000": 70000 is outside the user namespace's ids 0-65535 ("user_namespace": true)\n`]);

  const index = (await run(['unshare', 'create', 'vfs-context'])).stdout.trim();
  const mismatch = await run(['run', '--userns', '--vfs-context', index, '--', 'true']);
  t.same([mismatch.status, mismatch.stderr], [1, `fusejail: VFS root context ${index} is served for containers with no user namespace; this container has a user namespace (uid ${START}-${START + 65535}, gid ${typeof map === 'string' ? 0 : map.gid}-${(typeof map === 'string' ? 0 : map.gid) + 65535})\n`]);
  await run(['run', '-d', '--name', 'w', '--userns', '--', 'sleep', '600']);
  t.teardown(() => run(['rm', '-f', 'w']));
  const served = (JSON.parse((await run(['ls', '--json'])).stdout) as ContainerInfo[])[0]!.resources['vfs-context'];
  const reverse = await run(['run', '--no-userns', '--vfs-context', String(served), '--', 'true']);
  t.equal(reverse.status, 1);
  t.match(reverse.stderr, `VFS root context ${served} is served for containers with a user namespace (uid ${START}-`, 'and the reverse');
  t.match(reverse.stderr, /; this container has no user namespace\n$/);
});

t.test('--net container:NAME only on one process list: refused naming NAME otherwise', { skip: fuseUnavailable() }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--name', 'a', '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'b', '--', 'sleep', '600']);
  t.teardown(() => run(['rm', '-f', 'c', 'a', 'b']));
  const apart = await run(['run', '--net', 'container:b', '--', 'true']);
  t.same([apart.status, apart.stderr], [1, 'fusejail: --net container:b: b and this container are not attached to one process list (attach both with --process-list N)\n']);
  const unlisted = await run(['run', '--no-pid-isolation', '--net', 'container:a', '--', 'true']);
  t.equal(unlisted.status, 1, 'nor without a list');
  t.match(unlisted.stderr, '--net container:a: a and this container are not attached to one process list');
  const list = (JSON.parse((await run(['ls', '--json'])).stdout) as ContainerInfo[]).find((c) => c.name === 'a')!.resources['process-list']!;
  await run(['run', '-d', '--name', 'c', '--process-list', String(list), '--net', 'container:a', '--', 'sleep', '600']);
  const ns = async (name: string) => (await run(['exec', name, '--', 'readlink', '/proc/self/ns/net'])).stdout;
  t.equal(await ns('c'), await ns('a'), 'on a\'s list, c shares a\'s network');
});
