// Ownership and access for containers in a user namespace (an idmap), and root-only host files
// for container root without one: the server shows mapped owners, acts as the caller on the host.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ContextServer } from '../../../src/context-server/server.js';
import type { IdMap, TableOp } from '../../../src/context-server/table.js';
import { mountedHere } from '../../../src/host/mounts.js';
import { contextServerUnavailable, forceUnmount, hostDir, ramfsRoot } from '../../helpers/context-server.js';
import { tempDir } from '../../helpers/fuse.js';

const BASE = 100000;
const SIZE = 65536;
const idmap: IdMap = { uid: BASE, gid: BASE, size: SIZE };

// NOTE: util-linux 2.38's `unshare --map-users` needs newuidmap (Debian's uidmap) and a subordinate
// range for root; as root, the maps can be written directly: a child unshares its user namespace,
// the parent writes its uid_map and gid_map, and the child takes container ids and runs the script.
const USERNS = `
import ctypes, os, sys
base, size, cid, script = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ready, go = os.pipe(), os.pipe()
pid = os.fork()
if pid == 0:
    if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:
        os._exit(125)
    os.write(ready[1], b'u')
    os.read(go[0], 1)
    os.setgroups([])
    os.setresgid(cid, cid, cid)
    os.setresuid(cid, cid, cid)
    os.execv('/bin/sh', ['sh', '-c', script])
os.read(ready[0], 1)
for kind in ('uid', 'gid'):
    with open(f'/proc/{pid}/{kind}_map', 'w') as f:
        f.write(f'0 {base} {size}\\n')
os.write(go[1], b'g')
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;

interface Teardown {
  teardown(fn: () => unknown): void;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `script` as container uid/gid `id` in a user namespace mapping 0..SIZE-1 to host BASE..: a container. */
function inUserns(script: string, id = 0): Run {
  const r = spawnSync('python3', ['-c', USERNS, String(BASE), String(SIZE), String(id), script], { encoding: 'utf8', cwd: '/' });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

function usernsUnavailable(): string | false {
  if (!existsSync('/usr/bin/python3')) return 'no python3 to make user namespaces with';
  const probe = inUserns('cat /proc/self/uid_map; id -u');
  return probe.stdout.trim().replace(/\s+/g, ' ') === `0 ${BASE} ${SIZE} 0` ? false : `cannot make a user namespace here: ${probe.stderr || probe.stdout}`;
}

const skip = contextServerUnavailable() || usernsUnavailable();

/** `argv` run by host root with its root directory changed to `root`: a process that lives in the root. */
function chrooted(root: string, argv: string[]): Run {
  const r = spawnSync('chroot', [root, ...argv], { encoding: 'utf8', cwd: '/' });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** A context server on a fresh mountpoint, with or without an idmap; stopped and unmounted at teardown. */
async function serve(t: Teardown, table: readonly TableOp[], map?: IdMap): Promise<string> {
  const dir = tempDir('cs-id');
  chmodSync(dir, 0o755);
  const root = join(dir, 'root');
  mkdirSync(root);
  let server: ContextServer | undefined;
  t.teardown(async () => {
    await server?.stop().catch(() => {});
    forceUnmount(root);
    if (!mountedHere(root)) spawnSync('rm', ['-rf', dir]);
  });
  server = await ContextServer.start({ mountpoint: root, fsname: 'fusejail-test', table, exec: { jailed: false, allow: null }, ...(map ? { idmap: map } : {}) });
  return root;
}

const owner = (path: string): string => {
  const st = statSync(path);
  return `${st.uid}:${st.gid}`;
};

/** A host directory with root's files: public (0644), secret (0600), group (0640), and closed/ (0700). */
function hostFiles(t: Teardown, prefix: string): string {
  const src = hostDir(t, prefix);
  writeFileSync(join(src, 'public'), 'public');
  writeFileSync(join(src, 'secret'), 'secret');
  chmodSync(join(src, 'secret'), 0o600);
  writeFileSync(join(src, 'group'), 'group');
  chmodSync(join(src, 'group'), 0o640);
  mkdirSync(join(src, 'closed'));
  writeFileSync(join(src, 'closed/f'), 'closed');
  chmodSync(join(src, 'closed'), 0o700);
  return src;
}

const bind = (target: string, source: string, readOnly: boolean): TableOp => ({ op: 'mount', mount: { type: 'bind', target, readOnly, source } });

t.test('with an idmap, host root\'s files show as root inside and new files belong to the mapped ids', { skip }, async (t) => {
  const src = hostFiles(t, 'rw');
  // NOTE: the bind source belongs to the container's root (as a volume made for it would).
  chownSync(src, BASE, BASE);
  const root = await serve(t, [ramfsRoot(), bind('/rw', src, false)], idmap);
  t.equal(inUserns(`stat -c %u:%g '${root}/rw/public' '${root}/rw'`).stdout, '0:0\n0:0', 'host root and the base show as root inside');
  t.match(inUserns(`ls -ln '${root}/rw'`).stdout, / 0 +0 +6 .* public/, 'readdirplus shows them mapped too');
  t.equal(inUserns(`echo made > '${root}/rw/made' && mkdir '${root}/rw/dir' && ln -s made '${root}/rw/link' && stat -c %u:%g '${root}/rw/made'`).stdout, '0:0');
  for (const name of ['made', 'dir']) t.equal(owner(join(src, name)), `${BASE}:${BASE}`, `${name} belongs to the mapped ids on the host`);
  t.equal(inUserns(`stat -c %u:%g '${root}/rw/link'`).stdout, '0:0');
  t.equal(inUserns(`echo more >> '${root}/rw/made' && cat '${root}/rw/made'`).stdout, 'made\nmore', 'a file the container made is writable');
  const user = inUserns(`echo user > '${root}/rw/dir/u' 2>&1; chown 1000:1000 '${root}/rw/made' && stat -c %u:%g '${root}/rw/made'`);
  t.equal(user.stdout, '1000:1000', 'chown of its own file inside');
  t.equal(owner(join(src, 'made')), `${BASE + 1000}:${BASE + 1000}`, 'stored as the host ids the kernel sent');
  t.match(inUserns(`chown 0:0 '${root}/rw/public'`).stderr, 'Operation not permitted', 'chown of a host root file is refused');
  t.equal(owner(join(src, 'public')), '0:0');
  // NOTE: the host's view is the mapped one too: the kernel caches one set of attributes per inode.
  t.equal(owner(join(root, 'rw/public')), `${BASE}:${BASE}`, 'host callers see the mapped owner');
  t.equal(owner(join(root, 'rw/made')), `${BASE + 1000}:${BASE + 1000}`, 'ids in the range show as they are');
});

t.test('with an idmap, access is decided by the real host ownership on host mounts', { skip }, async (t) => {
  const rw = hostFiles(t, 'rw');
  chownSync(rw, BASE, BASE);
  const ro = hostFiles(t, 'ro');
  const root = await serve(t, [ramfsRoot(), bind('/rw', rw, false), bind('/ro', ro, true)], idmap);
  for (const dir of ['rw', 'ro']) {
    t.equal(inUserns(`cat '${root}/${dir}/public'`).stdout, 'public', `${dir}: a 0644 root file reads`);
    t.match(inUserns(`cat '${root}/${dir}/secret'`).stderr, 'Permission denied', `${dir}: a 0600 root file does not`);
    t.match(inUserns(`cat '${root}/${dir}/group'`).stderr, 'Permission denied', `${dir}: nor a 0640 root:root one (group 0 is the host's, not the container's)`);
    t.match(inUserns(`ls '${root}/${dir}/closed'`).stderr, 'Permission denied', `${dir}: a 0700 root directory cannot be listed`);
    t.match(inUserns(`cat '${root}/${dir}/closed/f'`).stderr, 'Permission denied', `${dir}: nor walked through`);
  }
  t.match(inUserns(`echo x >> '${root}/rw/public'`).stderr, 'Permission denied', 'a write to a host root 0644 file in a rw bind is EACCES');
  t.match(inUserns(`rm '${root}/rw/closed/f'`).stderr, 'Permission denied', 'so is removing from a host root directory');
  t.match(inUserns(`touch '${root}/rw/closed/new'`).stderr, 'Permission denied', 'and creating in one');
  t.match(inUserns(`chmod 666 '${root}/rw/public'`).stderr, 'Operation not permitted', 'chmod of a host root file is refused');
  t.equal(readFileSync(join(rw, 'public'), 'utf8'), 'public', 'the host file is unchanged');
  t.equal(inUserns(`rm '${root}/rw/public' && echo gone`).stdout, 'gone', 'the container owns the bind source directory: it may remove names in it');
  t.match(inUserns(`cat '${root}/rw/secret'`, 1000).stderr, 'Permission denied', 'a container user is refused too');
  t.equal(inUserns(`cat '${root}/ro/public'`, 1000).stdout, 'public', 'and reads what others may read');
  // NOTE: host processes are not in the range: the server acts as itself for them.
  t.equal(readFileSync(join(root, 'ro/secret'), 'utf8'), 'secret', 'host root still reads through the mountpoint');
});

t.test('container and host requests racing on the server\'s threads each get their own identity', { skip, timeout: 120_000 }, async (t) => {
  const ro = hostFiles(t, 'race');
  const root = await serve(t, [ramfsRoot(), bind('/ro', ro, true)], idmap);
  // NOTE: a thread keeps the identity of its last request (identity.c): a host request after a
  // container's on the same thread must still act as the server, and the other way round.
  const loop = (reader: string[]): Promise<string> =>
    new Promise((resolve) => {
      const p = spawn(reader[0]!, reader.slice(1), { cwd: '/', stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.on('close', () => resolve(out.trim()));
    });
  const script = (what: string): string =>
    `ok=0; no=0; for i in $(seq 300); do if cat '${root}/ro/${what}' >/dev/null 2>&1; then ok=$((ok+1)); else no=$((no+1)); fi; done; echo $ok $no`;
  const [container, host, containerPublic] = await Promise.all([
    loop(['python3', '-c', USERNS, String(BASE), String(SIZE), '0', script('secret')]),
    loop(['/bin/sh', '-c', script('secret')]),
    loop(['python3', '-c', USERNS, String(BASE), String(SIZE), '0', script('public')]),
  ]);
  t.equal(container, '0 300', 'the container never reads the secret');
  t.equal(host, '300 0', 'host root always does');
  t.equal(containerPublic, '300 0', 'the container always reads what others may');
});

t.test('with an idmap, the server\'s own stores are decided by the kernel on the shown owners', { skip }, async (t) => {
  const root = await serve(t, [ramfsRoot(), { op: 'mkdir', path: '/tmp', mode: 0o1777 }], idmap);
  t.equal(inUserns(`stat -c %u:%g '${root}' '${root}/tmp'`).stdout, '0:0\n0:0', 'the RAMFS root shows as the container root\'s');
  t.equal(inUserns(`echo x > '${root}/mine' && mkdir '${root}/d' && stat -c %u:%g '${root}/mine' '${root}/d'`).stdout, '0:0\n0:0', 'and is usable by it');
  t.equal(inUserns(`touch '${root}/tmp/u' && stat -c %u:%g '${root}/tmp/u'`, 1000).stdout, '1000:1000', 'a container user creates in /tmp');
  t.equal(owner(join(root, 'mine')), `${BASE}:${BASE}`, 'stored with the mapped ids');
  t.equal(owner(join(root, 'tmp/u')), `${BASE + 1000}:${BASE + 1000}`);
  t.match(inUserns(`touch '${root}/nope'`, 1000).stderr, 'Permission denied', 'a container user cannot write the root\'s directory');
});

t.test('without an idmap, container root reads only what others (or group 0) may read on read-only host mounts', { skip }, async (t) => {
  const ro = hostFiles(t, 'ro');
  const rw = hostFiles(t, 'rw');
  const links = ['bin', 'lib', 'lib64'].filter((d) => existsSync(`/usr/${d}`));
  const root = await serve(t, [
    ramfsRoot(),
    bind('/usr', '/usr', true),
    ...links.map((d): TableOp => ({ op: 'mount', mount: { type: 'symlink', target: `/${d}`, readOnly: true, link: `usr/${d}` } })),
    bind('/ro', ro, true),
    bind('/rw', rw, false),
  ]);
  // NOTE: the server tells a container process by its root (hostview.c): chroot puts one there.
  t.equal(chrooted(root, ['/usr/bin/cat', '/ro/public']).stdout, 'public', 'a 0755 program and a 0644 file work as before');
  t.match(chrooted(root, ['/usr/bin/cat', '/ro/secret']).stderr, 'Permission denied', 'a 0600 root file is EACCES inside');
  t.equal(chrooted(root, ['/usr/bin/cat', '/ro/group']).stdout, 'group', 'a 0640 root:root file reads through group 0');
  t.match(chrooted(root, ['/usr/bin/ls', '/ro/closed']).stderr, 'Permission denied', 'a 0700 root directory cannot be listed');
  t.equal(chrooted(root, ['/usr/bin/cat', '/rw/secret']).stdout, 'secret', 'read-write binds are unchanged (container root is host root there)');
  t.equal(readFileSync(join(root, 'ro/secret'), 'utf8'), 'secret', 'a host root process browsing the mountpoint still reads it');
  t.equal(spawnSync('cat', [join(root, 'ro/closed/f')], { encoding: 'utf8' }).stdout, 'closed', 'and walks through closed directories');
});

t.test('a malformed idmap is refused with a message naming the field', { skip: contextServerUnavailable() }, async (t) => {
  const dir = hostDir(t, 'badmap');
  const cases: [unknown, string][] = [
    ['all', 'idmap must be an object'],
    [{ uid: -1, gid: BASE, size: SIZE }, 'idmap.uid'],
    [{ uid: BASE, gid: '100000', size: SIZE }, 'idmap.gid'],
    [{ uid: BASE, gid: BASE, size: 0 }, 'idmap.size'],
    [{ uid: BASE, gid: BASE }, 'idmap.size'],
    [{ uid: 1000, gid: BASE, size: SIZE }, 'idmap.uid 1000 overlaps'],
    [{ uid: BASE, gid: 4294967200, size: SIZE }, 'idmap.gid'],
    [{ uid: BASE, gid: BASE, size: SIZE, base: 1 }, 'idmap.base is not a field'],
  ];
  for (const [bad, message] of cases) {
    const err = await ContextServer.start({ mountpoint: dir, fsname: 'fusejail-test', table: [ramfsRoot()], exec: { jailed: false, allow: null }, idmap: bad as IdMap }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (e: unknown) => e as { code: string; message: string },
    );
    t.equal(err?.code, 'EINVAL', JSON.stringify(bad));
    t.match(err?.message, message);
  }
  t.notOk(mountedHere(dir), 'nothing was mounted');
});
