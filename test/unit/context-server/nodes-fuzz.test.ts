// The C inode table (native-bindings/context-server/nodes.c) under a randomized model check with ASan.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';

const repo = resolve(import.meta.dirname, '../../..');
const skip = !existsSync('/usr/bin/cc') || !existsSync('/usr/include/fuse3/fuse_lowlevel.h') ? 'needs cc and libfuse3-dev' : false;

t.test('lookups, forgets, unlinks, renames and exchanges never touch freed memory', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fusejail-nodes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'nodes-fuzz');
  const cflags = execFileSync('pkg-config', ['--cflags', 'fuse3'], { encoding: 'utf8' }).trim().split(/\s+/);
  execFileSync('cc', ['-g', '-O1', '-fsanitize=address,undefined', ...cflags, '-I', join(repo, 'native-bindings/context-server'),
    join(repo, 'test/native/nodes-fuzz.c'), join(repo, 'native-bindings/context-server/nodes.c'), '-lfuse3', '-lpthread', '-ljansson', '-o', bin]);
  t.equal(execFileSync(bin, { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'halt_on_error=1' } }), 'nodes: ok\n');
});
