import t from 'tap';
import { isFusejailError } from '../../../src/errors.js';
import { MountTable } from '../../../src/resources/mount-table.js';

const table = () => {
  const m = new MountTable<string>();
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

t.test('mount targets are listed in their parent and are busy', async (t) => {
  const m = new MountTable<string>();
  m.add({ target: '/', backend: 'root', readOnly: false });
  m.add({ target: '/a/b/c', backend: 'c', readOnly: false });
  m.add({ target: '/a/d', backend: 'd', readOnly: false });
  t.same(m.childMountNames('/').sort(), ['a']);
  t.same(m.childMountNames('/a').sort(), ['b', 'd']);
  t.same(m.childMountNames('/a/b'), ['c']);
  t.same(m.childMountNames('/x'), []);
  t.ok(m.isBusy('/a'));
  t.ok(m.isBusy('/a/b/c'));
  t.notOk(m.isBusy('/a/b/c/e'));
  t.notOk(m.isBusy('/ab'));
});
