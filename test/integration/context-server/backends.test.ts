// The context server's backends through the mount: bind, ramfs, copy, symlink, hidden, synthesised.
import { linkSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, writeFileSync, readlinkSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ContextServer } from '../../../src/context-server/server.js';
import { contextServerUnavailable, hostDir, ramfsRoot, startContext } from '../../helpers/context-server.js';
import { code, sh } from '../../helpers/fuse.js';

const skip = contextServerUnavailable();

t.test('a read-only bind reads the host and refuses writes with EROFS', { skip }, async (t) => {
  const src = hostDir(t, 'bind');
  writeFileSync(join(src, 'f'), 'host data');
  const c = await startContext(t, [ramfsRoot(), { op: 'mount', mount: { type: 'bind', target: '/ro', readOnly: true, source: src } }]);
  t.equal(readFileSync(join(c.root, 'ro/f'), 'utf8'), 'host data');
  t.equal(code(() => writeFileSync(join(c.root, 'ro/f'), 'x')), 'EROFS', 'open for writing');
  t.equal(code(() => writeFileSync(join(c.root, 'ro/new'), 'x')), 'EROFS', 'create');
  t.equal(code(() => mkdirSync(join(c.root, 'ro/d'))), 'EROFS', 'mkdir');
  t.equal(sh(`truncate -s 0 '${c.root}/ro/f'`).status !== 0, true, 'truncate fails');
  t.equal(readFileSync(join(src, 'f'), 'utf8'), 'host data', 'the host file is unchanged');
});

t.test('a bind source with a symlink in its path is refused (ELOOP) naming the source', { skip }, async (t) => {
  const src = hostDir(t, 'bindlink');
  mkdirSync(join(src, 'real'));
  symlinkSync(join(src, 'real'), join(src, 'link'));
  const dir = hostDir(t, 'mp');
  const err = await ContextServer.start({
    mountpoint: dir,
    fsname: 'fusejail-test',
    table: [ramfsRoot(), { op: 'mount', mount: { type: 'bind', target: '/x', readOnly: true, source: join(src, 'link') } }],
    exec: { jailed: false, allow: null },
  }).then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );
  t.equal(err?.code, 'ELOOP');
  t.match(err?.message, join(src, 'link'));
});

t.test('a layout mkdir in a read-only mount fails the start with EROFS', { skip }, async (t) => {
  const src = hostDir(t, 'ro');
  const dir = hostDir(t, 'mp');
  const err = await ContextServer.start({
    mountpoint: dir,
    fsname: 'fusejail-test',
    table: [ramfsRoot(), { op: 'mount', mount: { type: 'bind', target: '/usr', readOnly: true, source: src } }, { op: 'mkdir', path: '/usr/new', mode: 0o755 }],
    exec: { jailed: false, allow: null },
  }).then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );
  t.equal(err?.code, 'EROFS');
  t.equal(err?.message, 'layout: directory /usr/new: EROFS');
});

t.test('ramfs: POSIX behaviour from the kernel tmpfs', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot(4 << 20), { op: 'mkdir', path: '/w', mode: 0o755 }]);
  const w = join(c.root, 'w');
  writeFileSync(join(w, 'a'), 'one');
  t.equal(readFileSync(join(w, 'a'), 'utf8'), 'one');
  linkSync(join(w, 'a'), join(w, 'b'));
  t.equal(statSync(join(w, 'a')).nlink, 2, 'nlink right at once through the first name');
  t.equal(statSync(join(w, 'b')).ino, statSync(join(w, 'a')).ino, 'one inode');
  writeFileSync(join(w, 'b'), 'two');
  t.equal(readFileSync(join(w, 'a'), 'utf8'), 'two', 'a write through one name shows through the other');
  renameSync(join(w, 'a'), join(w, 'c'));
  t.equal(readFileSync(join(w, 'c'), 'utf8'), 'two');
  t.equal(code(() => statSync(join(w, 'a'))), 'ENOENT');
  t.equal(statSync(join(w, 'c')).nlink, 2);
  t.equal(sh(`rm '${w}/b' && cat '${w}/c'`).stdout, 'two', 'the other name survives an unlink');
  t.equal(statSync(join(w, 'c')).nlink, 1);
  t.equal(sh(`python3 -c "import os; os.setxattr('${w}/c', 'user.k', b'val'); print(os.getxattr('${w}/c', 'user.k').decode(), end='')"`).stdout, 'val', 'user xattrs');
  t.equal(sh(`touch -d '2001-02-03 04:05:06.123456789' '${w}/c' && stat -c %y '${w}/c'`).stdout.slice(0, 29), '2001-02-03 04:05:06.123456789', 'nanosecond times');
  const full = sh(`dd if=/dev/zero of='${w}/big' bs=1M count=8 2>&1`);
  t.match(full.stdout, 'No space left on device', 'ENOSPC at the size');
  t.match(sh(`df -B1 --output=size '${c.root}' | tail -1`).stdout.trim(), String(4 << 20), 'df shows the size');
  t.equal(sh(`mkfifo '${w}/fifo' && test -p '${w}/fifo'`).status, 0, 'FIFOs can be made');
  t.equal(sh(`mknod '${w}/dev' c 1 3 && test -c '${w}/dev'`).status, 0, 'a device node can be made in a RAMFS');
  t.match(sh(`cat '${w}/dev'`).stderr, 'Permission denied', 'and opens nothing: the mount is nodev');
});

t.test('copy: the host tree read until written, then private', { skip }, async (t) => {
  const src = hostDir(t, 'copy');
  mkdirSync(join(src, 'd'));
  writeFileSync(join(src, 'd/f'), 'host');
  writeFileSync(join(src, 'd/g'), 'host g');
  const file = join(hostDir(t, 'copyfile'), 'single');
  writeFileSync(file, 'single host file');
  const c = await startContext(t, [
    ramfsRoot(),
    { op: 'mount', mount: { type: 'copy', target: '/c', readOnly: false, source: src, size: 1 << 20 } },
    { op: 'mount', mount: { type: 'copy', target: '/one', readOnly: false, source: file, size: 1 << 20 } },
  ]);
  t.equal(readFileSync(join(c.root, 'c/d/f'), 'utf8'), 'host', 'the host file is readable before any write');
  writeFileSync(join(c.root, 'c/d/f'), 'mine');
  writeFileSync(join(c.root, 'c/new'), 'new');
  t.equal(readFileSync(join(c.root, 'c/d/f'), 'utf8'), 'mine');
  t.equal(readFileSync(join(src, 'd/f'), 'utf8'), 'host', 'the host is unchanged after a write');
  t.equal(code(() => statSync(join(src, 'new'))), 'ENOENT');
  t.equal(sh(`rm '${c.root}/c/d/f' && ls '${c.root}/c/d'`).stdout, 'g\n', 'a removal is private too');
  t.equal(readFileSync(join(src, 'd/f'), 'utf8'), 'host');
  t.equal(sh(`rm -r '${c.root}/c/d' && mkdir '${c.root}/c/d' && ls -A '${c.root}/c/d' | wc -l`).stdout.trim(), '0', 'a directory made again over a removed one is empty (opaque)');
  t.equal(readFileSync(join(src, 'd/g'), 'utf8'), 'host g');
  t.equal(sh(`mv '${c.root}/c/new' '${c.root}/c/d/moved' && cat '${c.root}/c/d/moved'`).stdout, 'new', 'renames inside a copy');
  t.match(sh(`df -B1 --output=size '${c.root}/c' | tail -1`).stdout.trim(), String(1 << 20), 'df of a copy shows its size');
  t.equal(readFileSync(join(c.root, 'one'), 'utf8'), 'single host file');
  writeFileSync(join(c.root, 'one'), 'changed');
  t.equal(readFileSync(file, 'utf8'), 'single host file', 'a single-file copy is private');
});

t.test('symlink mounts, hidden paths and synthesised parents', { skip }, async (t) => {
  const src = hostDir(t, 'etc');
  writeFileSync(join(src, 'passwd'), 'users');
  writeFileSync(join(src, 'shadow'), 'secret');
  mkdirSync(join(src, 'ssl'));
  writeFileSync(join(src, 'ssl/key'), 'key');
  const c = await startContext(t, [
    ramfsRoot(),
    { op: 'mount', mount: { type: 'bind', target: '/etc', readOnly: true, source: src } },
    { op: 'hide', path: '/etc/shadow' },
    { op: 'hide', path: '/etc/ssl' },
    { op: 'mount', mount: { type: 'symlink', target: '/lib', readOnly: true, link: 'usr/lib' } },
    { op: 'mount', mount: { type: 'mountpoint', target: '/a/b/proc', readOnly: true, fs: 'proc' } },
  ]);
  t.same(readdirSync(join(c.root, 'etc')).sort(), ['passwd'], 'hidden names are absent from the listing');
  t.equal(code(() => statSync(join(c.root, 'etc/shadow'))), 'ENOENT');
  t.equal(code(() => statSync(join(c.root, 'etc/ssl/key'))), 'ENOENT', 'and everything under them');
  t.equal(readlinkSync(join(c.root, 'lib')), 'usr/lib', 'a symlink mount is the link itself');
  t.ok(lstatSync(join(c.root, 'lib')).isSymbolicLink());
  const a = statSync(join(c.root, 'a'));
  t.ok(a.isDirectory(), 'a path on the way to a mount target is a directory');
  t.equal(a.mode & 0o7777, 0o755);
  t.equal(a.uid, 0);
  t.same(readdirSync(join(c.root, 'a')), ['b']);
  t.ok(readdirSync(c.root).includes('a'), 'and shows in its parent listing');
  t.same(readdirSync(join(c.root, 'a/b/proc')), [], 'the mount point is an empty directory');
  t.equal(code(() => mkdirSync(join(c.root, 'a/b/proc/x'))), 'EROFS');
  writeFileSync(join(c.root, 'a/b/made'), 'in a synthesised directory');
  t.equal(readFileSync(join(c.root, 'a/b/made'), 'utf8'), 'in a synthesised directory', 'creating in a synthesised directory makes it real');
  t.same(readdirSync(join(c.root, 'a/b')).sort(), ['made', 'proc']);
  t.same(readdirSync(join(c.root, 'a')), ['b']);
  t.not(sh(`rmdir '${c.root}/a/b/proc'`).status, 0, 'a mount target cannot be removed');
  t.equal(code(() => renameSync(join(c.root, 'etc'), join(c.root, 'etc2'))), 'EBUSY', 'a mount target cannot be renamed');
  t.equal(code(() => renameSync(join(c.root, 'etc/passwd'), join(c.root, 'passwd'))), 'EROFS', 'nothing leaves a read-only mount');
});

t.test('objects are created with the caller\'s ownership; set-gid directories pass their group on', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot(), { op: 'mkdir', path: '/tmp', mode: 0o1777 }, { op: 'mkdir', path: '/g', mode: 0o2777 }]);
  const nobody = sh('id -u nobody').stdout.trim();
  const nogroup = sh('id -g nobody').stdout.trim();
  t.equal(sh(`touch '${c.root}/tmp/f' && mkdir '${c.root}/tmp/d' && ln -s f '${c.root}/tmp/l' && mkfifo '${c.root}/tmp/p'`, 'nobody').status, 0);
  for (const name of ['f', 'd', 'l', 'p']) t.equal(sh(`stat -c %u:%g '${c.root}/tmp/${name}'`).stdout.trim(), `${nobody}:${nogroup}`, `${name} belongs to the caller`);
  t.equal(sh(`stat -c %a '${c.root}/tmp/f'`).stdout.trim(), '644', 'the caller\'s umask applies once');
  t.not(sh(`rm '${c.root}/tmp/f'`, 'daemon').status, 0, 'the sticky bit protects it from others');
  t.equal(sh(`touch '${c.root}/g/f' && mkdir '${c.root}/g/d'`, 'nobody').status, 0);
  t.equal(sh(`stat -c %u:%g '${c.root}/g/f'`).stdout.trim(), `${nobody}:0`, 'the set-gid directory\'s group');
  t.equal(sh(`stat -c %a '${c.root}/g/d'`).stdout.trim(), '2755', 'a new directory inherits set-gid');
  t.not(sh(`touch '${c.root}/f'`, 'nobody').status, 0, 'the root directory is not writable by others');
});

t.test('a file open for writing and for reading at once, in either order (one kernel io mode per inode)', { skip }, async (t) => {
  const src = hostDir(t, 'modes');
  const ro = hostDir(t, 'ro');
  writeFileSync(join(ro, 'f'), 'read-only');
  const c = await startContext(t, [
    ramfsRoot(),
    { op: 'mkdir', path: '/w', mode: 0o755 },
    { op: 'mount', mount: { type: 'bind', target: '/h', readOnly: false, source: src } },
    { op: 'mount', mount: { type: 'bind', target: '/ro', readOnly: true, source: ro } },
  ]);
  for (const dir of [join(c.root, 'w'), join(c.root, 'h')]) {
    const script = `
import os
p = '${dir}/f'
w = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
os.write(w, b'one')
r = os.open(p, os.O_RDONLY)
a = os.read(r, 10)
os.close(w)
w2 = os.open(p, os.O_RDWR)
os.pwrite(w2, b'two', 3)
b = os.pread(r, 10, 0)
os.close(r); os.close(w2)
print(a.decode(), b.decode(), open(p).read())
`;
    // NOTE: failed opens first: they must not wear out the server's table of pending opens.
    sh(`for i in $(seq 100); do echo x 2>/dev/null > '${c.root}/ro/f'; done`);
    const out = sh(`python3 -c "${script}"`);
    t.equal(out.stdout.trim(), 'one onetwo onetwo', `${dir}: writer then reader, reader then writer`);
  }
  t.equal(readFileSync(join(src, 'f'), 'utf8'), 'onetwo');
});

t.test('a file unlinked while open keeps working through its descriptor', { skip }, async (t) => {
  const c = await startContext(t, [ramfsRoot(), { op: 'mkdir', path: '/w', mode: 0o777 }]);
  const out = sh(`python3 -c "
import os
p = '${c.root}/w/unl'
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'gone')
os.unlink(p)
st = os.fstat(fd)
os.fchmod(fd, 0o640)
os.ftruncate(fd, 2)
os.utime(fd, ns=(5, 6))
st2 = os.fstat(fd)
print(os.pread(fd, 10, 0).decode(), st.st_nlink, oct(st2.st_mode & 0o777), st2.st_size, st2.st_mtime_ns)
"`);
  t.equal(out.stdout.trim(), 'go 0 0o640 2 6', `fstat, fchmod, ftruncate, futimens (${out.stderr.trim()})`);
});
