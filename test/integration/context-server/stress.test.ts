// Many processes renaming, linking, unlinking and listing at once while the table changes.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { contextServerUnavailable, hostDir, ramfsRoot, startContext } from '../../helpers/context-server.js';
import { sh } from '../../helpers/fuse.js';

const skip = contextServerUnavailable();

// NOTE: each operation may fail (the names race); only the server's survival and answers count.
const WORKER = `
import os, random, sys
base = sys.argv[1]; random.seed(int(sys.argv[2]))
names = ["n%d" % i for i in range(8)]
dirs = [base, base + "/d1", base + "/d2", base + "/d1/e"]
for d in dirs:
    try: os.makedirs(d, exist_ok=True)
    except OSError: pass
for i in range(3000):
    d, d2 = random.choice(dirs), random.choice(dirs)
    n, n2 = random.choice(names), random.choice(names)
    op = random.randrange(8)
    try:
        if op == 0: open(d + "/" + n, "w").write("x" * random.randrange(100))
        elif op == 1: os.link(d + "/" + n, d2 + "/" + n2)
        elif op == 2: os.unlink(d + "/" + n)
        elif op == 3: os.rename(d + "/" + n, d2 + "/" + n2)
        elif op == 4: os.stat(d + "/" + n)
        elif op == 5: os.listdir(d)
        elif op == 6:
            fd = os.open(d + "/" + n, os.O_RDWR); os.unlink(d + "/" + n); os.fstat(fd); os.ftruncate(fd, 3); os.close(fd)
        elif op == 7: os.mkdir(d + "/" + n)
    except OSError: pass
`;

t.test('six racing processes and 100 table edits: the server keeps answering', { skip, timeout: 120_000 }, async (t) => {
  const src = hostDir(t, 'stress');
  const c = await startContext(t, [ramfsRoot(64 << 20), { op: 'mkdir', path: '/w', mode: 0o755 }, { op: 'mount', mount: { type: 'bind', target: '/h', readOnly: false, source: src } }]);
  const worker = join(src, '..', `${src.split('/').pop()}-worker.py`);
  writeFileSync(worker, WORKER);
  t.teardown(() => sh(`rm -f '${worker}'`));
  const procs = Array.from({ length: 6 }, (_, i) => {
    const p = spawn('python3', [worker, join(c.root, i % 2 ? 'h/w' : 'w/x'), String(i)], { stdio: 'ignore' });
    return new Promise<number | null>((res) => p.on('exit', res));
  });
  const edits: Promise<unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    edits.push(c.server.ask({ op: 'mount-add', mount: { type: 'ramfs', target: '/w/x/d1/m', readOnly: false, size: 1 << 20, mode: 0o755 } }).catch(() => {}));
    edits.push(c.server.ask({ op: 'mount-rm', target: '/w/x/d1/m' }).catch(() => {}));
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(edits);
  t.same(await Promise.all(procs), [0, 0, 0, 0, 0, 0], 'every worker finished');
  t.equal(sh(`ls -R '${c.root}' > /dev/null`).status, 0, 'the whole tree lists');
  t.ok(readdirSync(c.root).includes('w'));
  writeFileSync(join(c.root, 'after'), 'alive');
  t.equal(sh(`cat '${c.root}/after'`).stdout, 'alive', 'and serves');
});
