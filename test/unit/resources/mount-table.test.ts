import { readFileSync } from 'node:fs';
import t from 'tap';
import { isFusejailError } from '../../../src/errors.js';
import { MountTable } from '../../../src/resources/mount-table.js';

const table = () => {
  const m = new MountTable<{ target: string; backend: string; readOnly: boolean }>();
  for (const target of ['/', '/usr', '/usr/lib', '/tmp']) m.add({ target, backend: target, readOnly: false });
  return m;
};

t.test('the longest matching target wins, with the path inside it', async (t) => {
  const m = table();
  t.same(m.resolve('/usr/lib/x.so'), { mount: m.entries[2], inner: '/x.so' });
  t.same(m.resolve('/usr/lib'), { mount: m.entries[2], inner: '/' });
  t.same(m.resolve('/usr/libexec'), { mount: m.entries[1], inner: '/libexec' }, 'a prefix of a name is not a parent');
  t.same(m.resolve('/etc/passwd'), { mount: m.entries[0], inner: '/etc/passwd' });
  t.same(m.resolve('/'), { mount: m.entries[0], inner: '/' });
});

t.test('EBUSY for a target in use, ENODEV for nothing mounted, EINVAL for a non-canonical target', async (t) => {
  const m = table();
  const busy = t.throws(() => m.add({ target: '/usr', backend: 'x', readOnly: false }));
  t.equal((busy as { code: string }).code, 'EBUSY');
  t.match((busy as Error).message, '"/usr" is already in use');
  const none = t.throws(() => m.remove('/opt'));
  t.equal((none as { code: string }).code, 'ENODEV');
  for (const bad of ['tmp', '/a/../b', '/a//b', '/a/']) {
    const e = t.throws(() => m.add({ target: bad, backend: 'x', readOnly: false }));
    t.ok(isFusejailError(e) && e.code === 'EINVAL', bad);
  }
  t.equal(m.entries.length, 4, 'refused edits change nothing');
});

t.test('removing a mount uncovers what lies below it at once', async (t) => {
  const m = table();
  t.equal(m.remove('/usr/lib').target, '/usr/lib');
  t.same(m.resolve('/usr/lib/x.so')?.inner, '/lib/x.so');
});

t.test('the root cannot be removed from a context in use', async (t) => {
  const e = t.throws(() => table().remove('/'));
  t.equal((e as { code: string }).code, 'EBUSY');
});

t.test('the shared path-resolution vectors (the C context server runs the same file)', async (t) => {
  const vectors = JSON.parse(readFileSync(new URL('../../vectors/path-resolution.json', import.meta.url), 'utf8')) as {
    targets: string[];
    cases: { path: string; mount: string; inner: string }[];
  };
  const m = new MountTable<{ target: string }>();
  for (const target of vectors.targets) m.add({ target });
  for (const c of vectors.cases) {
    const r = m.resolve(c.path);
    t.same({ mount: r?.mount.target, inner: r?.inner }, { mount: c.mount, inner: c.inner }, c.path);
  }
});
