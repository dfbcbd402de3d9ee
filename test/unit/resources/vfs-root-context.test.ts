import t from 'tap';
import { E } from '../../../src/fuse/errno.js';
import { FMODE_EXEC, S_IFDIR } from '../../../src/fuse/file-tree.js';
import { Ramfs } from '../../../src/fuse/ramfs.js';
import { ExecPolicy } from '../../../src/resources/exec-policy.js';
import { type LaunchEvent, VFSRootContext } from '../../../src/resources/vfs-root-context.js';
import { errnoOf } from '../../helpers/fuse.js';

const root = { uid: 0, gid: 0, pid: 7 };

t.test('a new context is an empty RAMFS root (SerenityOS)', async (t) => {
  const c = VFSRootContext.create(1);
  t.same((await c.readdir('/')).names, []);
  await c.mkdir('/etc', 0o755, root);
  t.equal((await c.getattr('/etc')).mode, S_IFDIR | 0o755);
});

t.test('mount targets appear, with the directories leading to them', async (t) => {
  const c = VFSRootContext.create(1);
  c.addMount({ target: '/a/b/c', backend: new Ramfs(), readOnly: false });
  t.same((await c.readdir('/')).names, ['a']);
  t.same((await c.readdir('/a')).names, ['b']);
  t.equal((await c.getattr('/a/b')).mode & S_IFDIR, S_IFDIR);
  await c.release(await c.create('/a/b/c/file', 0o644, root));
  t.same((await c.readdir('/a/b/c')).names, ['file']);
  t.equal(await errnoOf(c.getattr('/a/x')), E.ENOENT, 'only the way to a target is synthesised');
  t.equal(await errnoOf(c.getattr(`/${'é'.repeat(128)}`)), E.ENAMETOOLONG, 'a name over 255 bytes is too long, not missing');
});

t.test('edits apply at once; the mount below shows again after removal', async (t) => {
  const c = VFSRootContext.create(1);
  await c.mkdir('/m', 0o755, root);
  await c.release(await c.create('/m/under', 0o644, root));
  c.addMount({ target: '/m', backend: new Ramfs(), readOnly: false });
  t.same((await c.readdir('/m')).names, [], 'the new mount covers what was there');
  c.removeMount('/m');
  t.same((await c.readdir('/m')).names, ['under']);
});

t.test('EXDEV across mounts, EBUSY on mount points, EROFS on read-only mounts', async (t) => {
  const c = VFSRootContext.create(1);
  c.addMount({ target: '/rw', backend: new Ramfs(), readOnly: false });
  c.addMount({ target: '/ro', backend: new Ramfs(), readOnly: true });
  await c.release(await c.create('/f', 0o644, root));
  t.equal(await errnoOf(c.rename('/f', '/rw/f')), E.EXDEV);
  t.equal(await errnoOf(c.link('/f', '/rw/f')), E.EXDEV);
  t.equal(await errnoOf(c.rename('/rw', '/x')), E.EBUSY);
  t.equal(await errnoOf(c.rmdir('/rw')), E.EBUSY);
  t.equal(await errnoOf(c.create('/ro/f', 0o644, root)), E.EROFS);
  t.equal(await errnoOf(c.mkdir('/ro/d', 0o755, root)), E.EROFS);
  t.equal(await errnoOf(c.open('/ro', 1, root)), E.EROFS, 'opening for write is refused too');
});

t.test('a jailed context refuses set-uid launches and reports every launch', async (t) => {
  const c = VFSRootContext.create(1, { policy: new ExecPolicy({ jailed: true, allow: ['/ok', '/suid'] }) });
  const events: LaunchEvent[] = [];
  c.onLaunch((e) => events.push(e));
  for (const [name, mode] of [['ok', 0o755], ['suid', 0o4755], ['other', 0o755]] as const) {
    await c.release(await c.create(`/${name}`, mode, root));
  }
  await c.release(await c.open('/ok', FMODE_EXEC, root));
  t.equal(await errnoOf(c.open('/suid', FMODE_EXEC, root)), E.EPERM);
  t.equal(await errnoOf(c.open('/other', FMODE_EXEC, root)), E.EPERM);
  await c.release(await c.open('/other', 0, root));
  t.same(
    events.map((e) => [e.path, e.allowed, e.reason, e.pid]),
    [
      ['/ok', true, undefined, 7],
      ['/suid', false, 'setuid', 7],
      ['/other', false, 'not-allowed', 7],
    ],
    'a plain open is not a launch',
  );
});

t.test('a hidden path does not exist and is not listed, whatever its backend holds', async (t) => {
  const c = VFSRootContext.create(1);
  await c.mkdir('/etc', 0o755, root);
  for (const f of ['/etc/passwd', '/etc/shadow']) await c.release(await c.create(f, 0o644, root));
  await c.mkdir('/etc/ssh', 0o755, root);
  await c.release(await c.create('/etc/ssh/key', 0o600, root));
  c.hide('/etc/shadow');
  c.hide('/etc/ssh');
  t.same((await c.readdir('/etc')).names, ['passwd']);
  t.equal(await errnoOf(c.getattr('/etc/shadow')), E.ENOENT);
  t.equal(await errnoOf(c.open('/etc/ssh/key', 0, root)), E.ENOENT, 'nor anything below a hidden directory');
});
