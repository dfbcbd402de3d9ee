// The OCI runtime's config.json reader and container setup (spec.c, setup.c, seccomp.c) alone,
// through test/oci-driver, side by side with Debian's runc on the same bundle.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, repo, serve, tempDir } from '../../helpers/fuse.js';
import { type Bundle, bundle } from '../../helpers/oci-bundle.js';

const RUNC = '/usr/sbin/runc';

function unavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, mounts, mknod)';
  if (!existsSync('/usr/bin/cc')) return 'no C compiler (cc) to build test/oci-driver';
  return false;
}

const skip = unavailable();

/** Builds the driver once, into a temporary directory. */
function buildDriver(): string {
  const out = join(tempDir('oci-driver'), 'oci-driver');
  const oci = join(repo, 'native-bindings/oci');
  const sources = ['spec.c', 'setup.c', 'seccomp.c', 'names.c'].map((f) => join(oci, f));
  execFileSync('cc', ['-O2', `-I${oci}`, '-o', out, join(repo, 'test/oci-driver/driver.c'), ...sources, '-ljansson', '-lseccomp']);
  return out;
}

const driver = skip ? '' : buildDriver();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const runDriver = (b: Bundle, extra: string[] = []): Run => {
  const r = spawnSync(driver, [...extra, b.dir], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const runRunc = (t: { teardown(fn: () => unknown): void }, b: Bundle): Run => {
  const root = tempDir('runc-root');
  const id = `setup-test-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  t.teardown(() => spawnSync(RUNC, ['--root', root, 'delete', '--force', id]));
  const r = spawnSync(RUNC, ['--root', root, 'run', id], { cwd: b.dir, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const leftovers = (b: Bundle): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(b.dir));

/** What a process sees, with what differs between two runs (ids, times, the runtime's own cgroup) taken out. */
const PROBE = [
  'cat /proc/self/mountinfo', 'echo ---', 'ls -la /dev', 'echo ---', 'grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status',
  'ulimit -n', 'hostname', 'id', 'pwd', 'umask',
].join('; ');

function normalise(out: string): string {
  return out
    .split('\n')
    .filter((l) => !l.includes('/sys/fs/cgroup'))
    .map((l) => l.replace(/^\d+ \d+ \d+:\d+ /, '').replace(/\w{3} +\d+ \d\d:\d\d/, 'TIME'))
    .join('\n');
}

t.test('the default bundle: what the process sees matches runc', { skip: skip || (!existsSync(RUNC) && 'runc is not installed') }, async (t) => {
  const b = bundle(t, { args: ['sh', '-c', PROBE] });
  const ours = runDriver(b);
  t.equal(ours.status, 0, ours.stderr);
  const theirs = runRunc(t, b);
  t.equal(theirs.status, 0, theirs.stderr);
  t.equal(normalise(ours.stdout), normalise(theirs.stdout), 'mountinfo, /dev, capabilities, rlimit, identity');
  t.match(ours.stdout, /^CapBnd:\t0000000020000420$/m, 'bounding set is the config\'s three capabilities');
  t.match(ours.stdout, /^NoNewPrivs:\t1$/m);
  t.match(ours.stdout, / \/ ro,/, 'root.readonly: / is read-only');
  t.strictSame(leftovers(b), [], 'no mount is left on the host');
});

t.test('mounts: binds with options, destinations made inside the root, symlinks resolved in it', { skip }, async (t) => {
  const b = bundle(t, { args: ['sh', '-c', 'cat /data/vol/file /etc/one; touch /data/vol/new 2>&1; grep -E " /data/vol | /etc/one | /opt/fusejail-target/x " /proc/self/mountinfo; pwd'] });
  const volume = tempDir('volume');
  // NOTE: /opt/fusejail-target exists only inside the root; on the host it must stay absent.
  const outside = '/opt/fusejail-target';
  writeFileSync(join(volume, 'file'), 'from the volume\n');
  writeFileSync(join(volume, 'one'), 'one file\n');
  mkdirSync(join(b.rootfs, outside), { recursive: true });
  // An absolute link names a path inside the root, never the host's.
  symlinkSync(outside, join(b.rootfs, 'link'));
  // A dangling one (an image's /etc/resolv.conf -> ../run/...) is made where it points, inside.
  symlinkSync('../opt/fusejail-dangling/deep', join(b.rootfs, 'etc/dangling'));
  (b.config.mounts as object[]).push(
    { destination: '/data/vol', type: 'bind', source: volume, options: ['rbind', 'ro', 'nosuid', 'rprivate'] },
    { destination: '/etc/one', type: 'bind', source: join(volume, 'one'), options: ['bind', 'ro'] },
    { destination: '/link/x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    { destination: '/etc/dangling', type: 'bind', source: join(volume, 'one'), options: ['bind'] },
  );
  (b.config.process as Record<string, unknown>).cwd = '/home/made/here';
  b.save();
  const r = runDriver(b);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, 'from the volume\none file\n');
  t.match(r.stdout, /Read-only file system/, 'ro on a bind is applied by a remount');
  t.match(r.stdout, / \/data\/vol ro,nosuid,/);
  t.match(r.stdout, / \/etc\/one ro,/, 'a file bound on a file made for it');
  t.match(r.stdout, / \/opt\/fusejail-target\/x rw,/, 'the tmpfs went where the link points inside the root');
  t.match(r.stdout, /\/home\/made\/here$/m, 'cwd made when missing, even with a read-only root');
  t.ok(existsSync(join(b.rootfs, outside, 'x')), 'the link was followed inside the root');
  t.notOk(existsSync(outside), 'and not on the host');
  t.ok(existsSync(join(b.rootfs, 'opt/fusejail-dangling/deep')), 'a dangling link\'s target was made inside the root');
  t.notOk(existsSync('/opt/fusejail-dangling'), 'and not on the host');
  t.strictSame(leftovers(b), []);
});

t.test('a served root: pivot_root into the FUSE mount, kernel mounts on top, still nosuid,nodev', { skip: skip || fuseUnavailable() }, async (t) => {
  const b = bundle(t, { args: ['sh', '-c', 'grep -E " / | /made/here " /proc/self/mountinfo; touch /x 2>&1; ls /dev/null'] });
  chmodSync(b.dir, 0o755);
  (b.config.mounts as object[]).push({ destination: '/made/here', type: 'tmpfs', source: 'tmpfs' });
  b.save();
  const s = await serve(t, { hostname: null, command: 'sh', layout: [{ type: 'root_mount', source: b.rootfs }] });
  const r = runDriver(b, ['--root', s.root]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^\d+ \d+ \d+:\d+ \/ \/ ro,nosuid,nodev,[^ ]* - fuse\.fusejail /m, 'root.readonly kept the served root nosuid,nodev');
  t.match(r.stdout, / \/made\/here rw,[^ ]* - tmpfs /);
  t.match(r.stdout, /Read-only file system/);
  t.ok(existsSync(join(b.rootfs, 'made/here')), 'a missing destination is made through the served root, in root.path');
  t.strictSame(leftovers(b), []);
});

t.test('process: user, groups, capabilities (ambient too), rlimits, umask, oom_score_adj, sysctl, devices', { skip }, async (t) => {
  const caps = ['CAP_NET_ADMIN', 'CAP_KILL'];
  const b = bundle(t, {
    args: ['sh', '-c', 'id; grep -E "^Cap(Eff|Amb|Bnd)" /proc/self/status; ulimit -n; ulimit -Hn; umask; cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; ls -ln /dev/fuse'],
  });
  const process = b.config.process as Record<string, unknown>;
  process.user = { uid: 1000, gid: 1000, additionalGids: [5, 6], umask: 0o77 };
  process.capabilities = Object.fromEntries(['bounding', 'effective', 'permitted', 'inheritable', 'ambient'].map((k) => [k, caps]));
  process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }];
  process.oomScoreAdj = 500;
  const linux = b.config.linux as Record<string, unknown>;
  linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '123456' };
  linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 1000, gid: 1000 }];
  b.save();
  const r = runDriver(b);
  t.equal(r.status, 0, r.stderr);
  t.strictSame(r.stdout.split('\n').slice(0, 10), [
    'uid=1000 gid=1000 groups=5,6', 'CapEff:\t0000000000001020', 'CapBnd:\t0000000000001020', 'CapAmb:\t0000000000001020',
    '100', '200', '0077', '500', '1', '123456',
  ]);
  t.match(r.stdout, /^crw------- +1 1000 +1000 +10, +229 /m, 'linux.devices with its owner and mode');
});

t.test('a user namespace: namespace root, host devices bound in /dev', { skip }, async (t) => {
  const b = bundle(t, { args: ['sh', '-c', 'id; cat /proc/self/uid_map; echo x > /dev/null && head -c1 /dev/zero | wc -c'] });
  const linux = b.config.linux as Record<string, unknown>;
  (linux.namespaces as object[]).push({ type: 'user' });
  linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  // The namespace's root is host uid 100000: it must be able to reach the rootfs.
  chmodSync(b.dir, 0o755);
  b.save();
  const r = runDriver(b);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^uid=0\(root\) gid=0/m);
  t.match(r.stdout, /^ +0 +100000 +65536$/m);
  t.match(r.stdout, /^1$/m, 'the bound /dev/zero works');
  t.strictSame(leftovers(b), []);
});

t.test('seccomp: a profile is compiled, before or after no_new_privs, unknown syscalls skipped', { skip }, async (t) => {
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['mkdir', 'mkdirat', 'no_such_syscall_anywhere'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
    ],
  };
  for (const nnp of [true, false]) {
    const b = bundle(t, { args: ['sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/d 2>&1; sleep 5 & kill -9 $! 2>&1; kill -15 $! && echo term'] });
    (b.config.linux as Record<string, unknown>).seccomp = profile;
    (b.config.process as Record<string, unknown>).noNewPrivileges = nnp;
    b.save();
    const r = runDriver(b);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, `NoNewPrivs:\t${nnp ? 1 : 0}`);
    t.match(r.stdout, 'Seccomp:\t2', `filter in force (noNewPrivileges ${nnp})`);
    t.match(r.stdout, /mkdir: can't create directory '\/tmp\/d': Permission denied/, 'errnoRet');
    t.match(r.stdout, /Operation not permitted\nterm/, 'an argument condition: SIGKILL refused, SIGTERM allowed');
  }
});

t.test('what fusejail does not support is refused with its JSON path, before anything is made', { skip }, async (t) => {
  const cases: [string, (c: Record<string, any>) => void, RegExp][] = [
    ['linux.intelRdt', (c) => (c.linux.intelRdt = { closID: 'x' }), /config\.json: linux\.intelRdt is not supported by fusejail/],
    ['a time namespace', (c) => c.linux.namespaces.push({ type: 'time' }), /linux\.namespaces\[5\]\.type: namespace type "time" is not supported/],
    ['tmpcopyup', (c) => c.mounts[1].options.push('tmpcopyup'), /mounts\[1\]\.options\[4\]: mount option "tmpcopyup" is not supported/],
    ['a notify action', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }), /linux\.seccomp\.syscalls\[0\]\.action SCMP_ACT_NOTIFY is not supported/],
    ['an unknown capability', (c) => (c.process.capabilities.bounding = [...c.process.capabilities.bounding, 'CAP_NOPE']), /process\.capabilities\.bounding\[3\] is not a capability name/],
    ['a relative destination', (c) => (c.mounts[0].destination = 'proc'), /mounts\[0\]\.destination must be an absolute path/],
    ['a host sysctl', (c) => (c.linux.sysctl = { 'kernel.core_pattern': '|/x' }), /linux\.sysctl\["kernel\.core_pattern"\]: sysctl kernel\.core_pattern is not namespaced/],
    ['a non-empty apparmorProfile', (c) => (c.process.apparmorProfile = 'x'), /process\.apparmorProfile is not supported/],
    ['hugepage limits', (c) => (c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 0 }]), /linux\.resources\.hugepageLimits is not supported/],
  ];
  for (const [name, edit, message] of cases) {
    const b = bundle(t, { args: ['true'] });
    edit(b.config as Record<string, any>);
    b.save();
    const r = runDriver(b);
    t.equal(r.status, 125, name);
    t.match(r.stderr, message, name);
    t.strictSame(leftovers(b), [], `${name}: nothing mounted`);
  }
  const b = bundle(t, { args: ['true'] });
  const process = b.config.process as Record<string, unknown>;
  process.apparmorProfile = '';
  process.oomScoreAdj = 0;
  b.config.annotations = { 'run.fusejail.jail': 'false', 'io.podman.annotations.autoremove': 'TRUE' };
  (b.config.linux as Record<string, unknown>).resources = { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 2048 }, memory: { limit: 1 << 30 } };
  b.save();
  const r = runDriver(b);
  t.equal(r.status, 0, `what podman puts in a default run is accepted: ${r.stderr}`);
});
