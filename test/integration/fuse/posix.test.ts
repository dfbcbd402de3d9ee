// POSIX behaviour through a real FUSE mount, the same checks for the ramfs and bind backends.
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  statfsSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { code, fuseUnavailable, serve, sh, tempDir } from '../../helpers/fuse.js';

const skip = fuseUnavailable();

const backends: Record<string, () => { layout: object[]; host?: string }> = {
  ramfs: () => ({ layout: [{ type: 'mount', target: '/w', fs_type: 'RAMFS' }] }),
  bind: () => {
    const host = tempDir('bind-src');
    chmodSync(host, 0o1777);
    return { layout: [{ type: 'mount', source: host, target: '/w', fs_type: 'bind' }], host };
  },
};

for (const [name, make] of Object.entries(backends)) {
  t.test(`POSIX behaviour on ${name}`, { skip }, async (t) => {
    const { layout, host } = make();
    if (host) t.teardown(() => rmSync(host, { recursive: true, force: true }));
    const s = await serve(t, { hostname: null, layout });
    const w = join(s.root, 'w');

    t.test('write, read back, O_APPEND, fsync', async (t) => {
      writeFileSync(join(w, 'f'), 'hello');
      appendFileSync(join(w, 'f'), ' world');
      const fd = openSync(join(w, 'f'), 'a');
      writeSync(fd, '!', 0);
      fsyncSync(fd);
      closeSync(fd);
      t.equal(readFileSync(join(w, 'f'), 'utf8'), 'hello world!', 'O_APPEND writes land at the end');
      if (host) t.equal(readFileSync(join(host, 'f'), 'utf8'), 'hello world!', 'and on the host');
    });

    t.test('sparse files: a hole reads as zeros and takes no space', async (t) => {
      const p = join(w, 'sparse');
      writeFileSync(p, 'a');
      truncateSync(p, 2 ** 31);
      const fd = openSync(p, 'r+');
      writeSync(fd, 'z', 2 ** 31 - 1);
      const buf = Buffer.alloc(3);
      readSync(fd, buf, 0, 3, 2 ** 30);
      closeSync(fd);
      t.same([...buf], [0, 0, 0]);
      const st = statSync(p);
      t.equal(st.size, 2 ** 31);
      t.ok(st.blocks * 512 < 1024 * 1024, `allocates little (${st.blocks} blocks)`);
    });

    t.test('hard links, rename over files and directories', async (t) => {
      writeFileSync(join(w, 'a'), 'A');
      linkSync(join(w, 'a'), join(w, 'b'));
      t.equal(statSync(join(w, 'a')).nlink, 2);
      writeFileSync(join(w, 'c'), 'C');
      renameSync(join(w, 'c'), join(w, 'b'));
      t.equal(readFileSync(join(w, 'b'), 'utf8'), 'C', 'rename replaced the target');
      // NOTE: libfuse 2's high-level API gives each name its own kernel inode, so the other name's
      // cached attributes catch up only when the attribute cache bound (1 s) has passed.
      await new Promise((r) => setTimeout(r, 1100));
      t.equal(statSync(join(w, 'a')).nlink, 1, 'the replaced link is gone (after the cache bound)');
      mkdirSync(join(w, 'd1'));
      mkdirSync(join(w, 'd2'));
      mkdirSync(join(w, 'd3'));
      writeFileSync(join(w, 'd3/x'), '');
      renameSync(join(w, 'd1'), join(w, 'd2'));
      t.equal(code(() => renameSync(join(w, 'd2'), join(w, 'd3'))), 'ENOTEMPTY');
      t.equal(code(() => renameSync(join(w, 'a'), join(w, 'd2'))), 'EISDIR');
      t.equal(code(() => rmdirSync(join(w, 'd3'))), 'ENOTEMPTY');
      t.same(readdirSync(w).filter((n) => n.startsWith('d')).sort(), ['d2', 'd3']);
    });

    t.test('symlinks are links, resolved by the kernel', async (t) => {
      writeFileSync(join(w, 'target'), 'T');
      symlinkSync('target', join(w, 'link'));
      t.equal(readlinkSync(join(w, 'link')), 'target');
      t.ok(lstatSync(join(w, 'link')).isSymbolicLink());
      t.equal(readFileSync(join(w, 'link'), 'utf8'), 'T');
    });

    t.test('chmod, chown, utimes (atime and mtime apart), mtime follows writes', async (t) => {
      const p = join(w, 'meta');
      writeFileSync(p, 'm');
      chmodSync(p, 0o640);
      chownSync(p, 1234, 5678);
      const st = statSync(p);
      t.equal(st.mode & 0o7777, 0o640);
      t.equal(st.uid, 1234);
      t.equal(st.gid, 5678);
      utimesSync(p, 1_000_000, 2_000_000);
      t.equal(statSync(p).atimeMs, 1_000_000_000);
      t.equal(statSync(p).mtimeMs, 2_000_000_000);
      t.equal(sh(`touch -m -d @3000000 '${p}'`).status, 0);
      t.equal(statSync(p).mtimeMs, 3_000_000_000, 'touch -m changes mtime');
      t.equal(statSync(p).atimeMs, 1_000_000_000, 'and leaves atime');
      const before = statSync(p).mtimeMs;
      await new Promise((r) => setTimeout(r, 20));
      appendFileSync(p, 'x');
      t.ok(statSync(p).mtimeMs > before, 'a write moves mtime');
    });

    t.test('permissions are the kernel\'s; new files belong to their creator', async (t) => {
      writeFileSync(join(w, 'rootonly'), 'secret');
      chmodSync(join(w, 'rootonly'), 0o600);
      const denied = sh(`cat '${join(w, 'rootonly')}'`, 'nobody');
      t.not(denied.status, 0);
      t.match(denied.stderr, 'Permission denied');
      t.equal(sh(`echo mine > '${join(w, 'byNobody')}' && mkdir '${join(w, 'dirNobody')}'`, 'nobody').status, 0);
      const nobody = Number(sh('id -u nobody').stdout.trim());
      t.equal(statSync(join(w, 'byNobody')).uid, nobody, 'file owned by the caller');
      t.equal(statSync(join(w, 'dirNobody')).uid, nobody, 'directory owned by the caller');
      if (host) t.equal(statSync(join(host, 'byNobody')).uid, nobody, 'also on the host');
      t.equal(sh(`echo more >> '${join(w, 'byNobody')}'`, 'nobody').status, 0, 'the creator can write it again');
    });

    t.test('an unlinked open file stays readable; statfs answers', async (t) => {
      const p = join(w, 'gone');
      writeFileSync(p, 'still here');
      const fd = openSync(p, 'r');
      unlinkSync(p);
      const buf = Buffer.alloc(10);
      t.equal(readSync(fd, buf, 0, 10, 0), 10);
      t.equal(buf.toString(), 'still here');
      closeSync(fd);
      t.same(readdirSync(w).filter((n) => n.startsWith('.fuse_hidden')), [], 'no .fuse_hidden files left');
      const fs = statfsSync(w);
      t.ok(fs.blocks > 0 && fs.bsize > 0);
    });
  });
}
