import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Copy } from '../../../src/fuse/copy.js';
import { E } from '../../../src/fuse/errno.js';
import { errnoOf, tempDir } from '../../helpers/fuse.js';

const root = { uid: 0, gid: 0, pid: 1 };


function hostTree(): string {
  const dir = tempDir('copy');
  mkdirSync(join(dir, 'd/e'), { recursive: true });
  writeFileSync(join(dir, 'd/f'), 'host');
  writeFileSync(join(dir, 'd/e/g'), 'deep');
  symlinkSync('f', join(dir, 'd/l'));
  return dir;
}

t.test('reads come from the host; writes are copied up and never reach it', async (t) => {
  const dir = hostTree();
  t.teardown(() => rmSync(dir, { recursive: true }));
  const c = await Copy.open({ source: dir });
  const h = await c.open('/d/f', 2 /* O_RDWR */, root);
  await c.write(h, Buffer.from('HO'), 2, 0);
  const buf = Buffer.alloc(4);
  await c.read(h, buf, 4, 0);
  t.equal(buf.toString(), 'HOst');
  await c.release(h);
  t.equal(readFileSync(join(dir, 'd/f'), 'utf8'), 'host', 'host file unchanged');
  t.equal(await c.readlink('/d/l'), 'f');
  await c.mkdir('/d/new', 0o755, root);
  t.same((await c.readdir('/d')).names.sort(), ['e', 'f', 'l', 'new']);
  t.same(readdirSync(join(dir, 'd')).sort(), ['e', 'f', 'l']);
});

t.test('deletions hide host entries; a re-created directory is opaque', async (t) => {
  const dir = hostTree();
  t.teardown(() => rmSync(dir, { recursive: true }));
  const c = await Copy.open({ source: dir });
  await c.unlink('/d/f');
  t.equal(await errnoOf(c.getattr('/d/f')), E.ENOENT);
  t.equal(await errnoOf(c.rmdir('/d/e')), E.ENOTEMPTY);
  await c.unlink('/d/e/g');
  await c.rmdir('/d/e');
  await c.mkdir('/d/e', 0o700, root);
  t.same((await c.readdir('/d/e')).names, [], 'the host children of a deleted directory stay hidden');
  t.same((await c.readdir('/d')).names.sort(), ['e', 'l']);
  t.equal(readFileSync(join(dir, 'd/e/g'), 'utf8'), 'deep', 'host tree unchanged');
});

t.test('renaming a host directory moves its whole content', async (t) => {
  const dir = hostTree();
  t.teardown(() => rmSync(dir, { recursive: true }));
  const c = await Copy.open({ source: dir });
  await c.rename('/d', '/moved');
  t.equal(await errnoOf(c.getattr('/d')), E.ENOENT);
  t.same((await c.readdir('/moved')).names.sort(), ['e', 'f', 'l']);
  const h = await c.open('/moved/e/g', 0, root);
  const buf = Buffer.alloc(4);
  await c.read(h, buf, 4, 0);
  t.equal(buf.toString(), 'deep');
  await c.release(h);
  t.same(readdirSync(dir), ['d']);
});

t.test('a single copied file', async (t) => {
  const dir = hostTree();
  t.teardown(() => rmSync(dir, { recursive: true }));
  const c = await Copy.open({ source: join(dir, 'd/f') });
  t.equal((await c.getattr('/')).size, 4);
  const h = await c.open('/', 1 | 0o1000 /* O_WRONLY|O_TRUNC */, root);
  await c.write(h, Buffer.from('mine!'), 5, 0);
  await c.release(h);
  t.equal((await c.getattr('/')).size, 5);
  t.equal(readFileSync(join(dir, 'd/f'), 'utf8'), 'host');
});
