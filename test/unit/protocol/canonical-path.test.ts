import t from 'tap';
import { canonicalPath } from '../../../src/protocol/canonical-path.js';

t.test('accepts absolute canonical paths', async (t) => {
  for (const p of ['/', '/a', '/a/b.c', '/usr/lib64', '/...', '/a..b']) t.same(canonicalPath(p), { ok: true, path: p }, p);
});

t.test('rejects what SerenityOS meant to reject', async (t) => {
  const cases: [string, string][] = [
    ['tmp', 'must be absolute'],
    ['', 'must be absolute'],
    ['/a/../b', 'must not contain a ".." component'],
    ['/a/./b', 'must not contain a "." component'],
    ['/..', 'must not contain a ".." component'],
    ['/a//b', 'must not contain "//"'],
    ['//', 'must not contain "//"'],
    ['/a/', 'must not end with "/"'],
    ['/a\0b', 'must not contain a NUL byte'],
  ];
  for (const [p, reason] of cases) t.same(canonicalPath(p), { ok: false, reason }, JSON.stringify(p));
});

t.test('a trailing slash is dropped only when asked (SerenityOS configs write "/usr/")', async (t) => {
  t.same(canonicalPath('/usr/', 'drop'), { ok: true, path: '/usr' });
  t.same(canonicalPath('/', 'drop'), { ok: true, path: '/' });
  t.same(canonicalPath('//', 'drop'), { ok: false, reason: 'must not contain "//"' });
  t.same(canonicalPath('/a/../', 'drop'), { ok: false, reason: 'must not contain a ".." component' });
});
