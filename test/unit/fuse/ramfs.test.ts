import t from 'tap';
import { E } from '../../../src/fuse/errno.js';
import { O_TRUNC, S_IFDIR, S_IFLNK, S_IFREG, S_ISGID } from '../../../src/fuse/file-tree.js';
import { Ramfs } from '../../../src/fuse/ramfs.js';
import { errnoOf } from '../../helpers/fuse.js';

const root = { uid: 0, gid: 0, pid: 1 };
const user = { uid: 1000, gid: 1000, pid: 2 };


t.test('files: write, read back, sparse holes read as zeros and cost nothing', async (t) => {
  const fs = new Ramfs();
  const h = await fs.create('/f', 0o644, user);
  t.equal(await fs.write(h, Buffer.from('hello'), 5, 0), 5);
  t.equal(await fs.write(h, Buffer.from('end'), 3, 10 * 2 ** 30), 3, 'write 10 GiB in');
  const st = await fs.getattr('/f');
  t.equal(st.size, 10 * 2 ** 30 + 3);
  t.equal(st.blocks, 2 * 128, 'two 64 KiB chunks allocated, not 10 GiB');
  t.equal(st.uid, 1000, 'owned by the caller');
  const buf = Buffer.alloc(8);
  t.equal(await fs.read(h, buf, 8, 0), 8);
  t.equal(buf.toString('latin1'), 'hello\0\0\0');
  t.equal(await fs.read(h, buf, 8, 10 * 2 ** 30 - 2), 5, 'short read at the end');
  t.equal(buf.subarray(0, 5).toString('latin1'), '\0\0end');
  await fs.release(h);
});

t.test('truncate shrinks, zeroes the tail, frees chunks; O_TRUNC empties', async (t) => {
  const fs = new Ramfs({ sizeLimit: 4 * 64 * 1024 });
  const h = await fs.create('/f', 0o644, root);
  await fs.write(h, Buffer.alloc(200_000, 1), 200_000, 0);
  await fs.ftruncate(h, 10);
  await fs.ftruncate(h, 100);
  const buf = Buffer.alloc(100);
  await fs.read(h, buf, 100, 0);
  t.same([...buf.subarray(8, 12)], [1, 1, 0, 0], 'bytes past the old end read as zero');
  t.equal((await fs.getattr('/f')).blocks, 128);
  const h2 = await fs.open('/f', O_TRUNC | 1, root);
  t.equal((await fs.getattr('/f')).size, 0);
  await fs.release(h2);
  await fs.release(h);
});

t.test('a size limit gives ENOSPC and loses nothing already written', async (t) => {
  const fs = new Ramfs({ sizeLimit: 128 * 1024 });
  const h = await fs.create('/f', 0o644, root);
  t.equal(await fs.write(h, Buffer.alloc(100_000, 7), 100_000, 0), 100_000);
  t.equal(await errnoOf(fs.write(h, Buffer.alloc(100_000, 8), 100_000, 100_000)), E.ENOSPC);
  t.equal((await fs.getattr('/f')).size, 100_000);
  await fs.unlink('/f');
  await fs.release(h);
  const h2 = await fs.create('/g', 0o644, root);
  t.equal(await fs.write(h2, Buffer.alloc(128 * 1024), 128 * 1024, 0), 128 * 1024, 'space of an unlinked, released file comes back');
});

t.test('hard links share data and count; an unlinked open file stays readable', async (t) => {
  const fs = new Ramfs();
  const h = await fs.create('/a', 0o644, root);
  await fs.write(h, Buffer.from('data'), 4, 0);
  await fs.link('/a', '/b');
  t.equal((await fs.getattr('/a')).nlink, 2);
  await fs.unlink('/a');
  t.equal((await fs.getattr('/b')).nlink, 1);
  await fs.unlink('/b');
  const buf = Buffer.alloc(4);
  t.equal(await fs.read(h, buf, 4, 0), 4);
  t.equal(buf.toString(), 'data');
  await fs.release(h);
  t.equal(await errnoOf(fs.getattr('/a')), E.ENOENT);
});

t.test('rename over files and directories, ENOTEMPTY, directory link counts', async (t) => {
  const fs = new Ramfs();
  await fs.mkdir('/d1', 0o755, root);
  await fs.mkdir('/d2', 0o755, root);
  await fs.mkdir('/d3', 0o755, root);
  await fs.release(await fs.create('/d3/x', 0o644, root));
  t.equal((await fs.getattr('/')).nlink, 5);
  t.equal(await errnoOf(fs.rename('/d1', '/d3')), E.ENOTEMPTY);
  await fs.rename('/d1', '/d2');
  t.equal((await fs.getattr('/')).nlink, 4, 'replacing an empty directory drops one link');
  await fs.rename('/d2', '/d3/sub');
  t.equal((await fs.getattr('/d3')).nlink, 3);
  await fs.release(await fs.create('/f1', 0o644, root));
  await fs.release(await fs.create('/f2', 0o600, root));
  await fs.rename('/f1', '/f2');
  t.equal((await fs.getattr('/f2')).mode, S_IFREG | 0o644);
  t.equal(await errnoOf(fs.getattr('/f1')), E.ENOENT);
  t.equal(await errnoOf(fs.rmdir('/d3')), E.ENOTEMPTY);
});

t.test('symlinks, set-gid directories, chown -1, omitted times', async (t) => {
  const fs = new Ramfs();
  await fs.symlink('/l', '../target', user);
  t.equal(await fs.readlink('/l'), '../target');
  t.equal((await fs.getattr('/l')).mode, S_IFLNK | 0o777);
  t.equal((await fs.getattr('/l')).size, 9);
  await fs.mkdir('/g', 0o2775, root);
  await fs.chown('/g', 0xffffffff, 50);
  t.equal((await fs.getattr('/g')).uid, 0, 'uid -1 leaves the owner');
  await fs.mkdir('/g/sub', 0o755, user);
  const sub = await fs.getattr('/g/sub');
  t.equal(sub.gid, 50, 'group inherited from a set-gid parent');
  t.equal(sub.mode, S_IFDIR | S_ISGID | 0o755, 'and the set-gid bit too');
  await fs.utimens('/g', 1000, undefined);
  await fs.utimens('/g', undefined, 2000);
  const g = await fs.getattr('/g');
  t.equal(g.atimeMs, 1000);
  t.equal(g.mtimeMs, 2000);
});
