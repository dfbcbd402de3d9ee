// The subordinate range: how the supervisor reads it, and how `make deps` chooses it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { subordinateStart, userNamespaceMap } from '../../../src/resources/user-namespace.js';
import { outsideUserNamespace, parseConfig } from '../../../src/protocol/config.js';
import { repo } from '../../helpers/fuse.js';

t.test('a range is read from the first "fusejail" line; a missing, malformed or short one is named', async (t) => {
  t.equal(subordinateStart('alice:100000:65536\nfusejail:131072:65536\nfusejail:262144:65536\n', 'fusejail'), 131072);
  t.equal(subordinateStart('fusejail:196608:100000', 'fusejail'), 196608, 'a larger range serves, its first 65536 ids are used');
  t.same(subordinateStart('', 'fusejail'), { problem: 'no subordinate range' });
  t.same(subordinateStart('fusejailx:131072:65536\n', 'fusejail'), { problem: 'no subordinate range' }, 'the owner is matched whole');
  t.same(subordinateStart('fusejail:abc:65536\n', 'fusejail'), { problem: 'a malformed subordinate range "fusejail:abc:65536" (expected fusejail:START:COUNT)' });
  t.same(subordinateStart('fusejail:131072:1000\n', 'fusejail'), { problem: 'a subordinate range "fusejail:131072:1000" of fewer than 65536 ids' });
  t.same(subordinateStart('fusejail:0:65536\n', 'fusejail'), { problem: 'a subordinate range "fusejail:0:65536" that starts at 0 or runs past the last id' }, 'container root would be host root');
});

t.test('the map comes from both files; a file without the range is named (FUSEJAIL_TEST_SUBID_DIR)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fusejail-subid-'));
  const saved = process.env.FUSEJAIL_TEST_SUBID_DIR;
  process.env.FUSEJAIL_TEST_SUBID_DIR = dir;
  t.teardown(() => {
    if (saved === undefined) delete process.env.FUSEJAIL_TEST_SUBID_DIR;
    else process.env.FUSEJAIL_TEST_SUBID_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'subuid'), 'fusejail:131072:65536\n');
  writeFileSync(join(dir, 'subgid'), 'fusejail:196608:65536\n');
  t.same(userNamespaceMap(), { uid: 131072, gid: 196608, size: 65536 });
  writeFileSync(join(dir, 'subgid'), '');
  t.throws(() => userNamespaceMap(), { code: 'CONFIG_INVALID', message: `user_namespace: no subordinate range for "fusejail" in ${dir}/subgid (make deps adds one)` });
  rmSync(join(dir, 'subuid'));
  t.throws(() => userNamespaceMap(), { message: `user_namespace: no subordinate range for "fusejail" in ${dir}/subuid (make deps adds one)` }, 'a missing file holds none');
});

t.test('a user namespace holds ids 0-65535: a config user outside it is named', async (t) => {
  t.equal(outsideUserNamespace({ uid: 65535, gid: 0, groups: [100] }), undefined);
  t.equal(outsideUserNamespace({ uid: 0, gid: 65536 }), '65536 is outside the user namespace\'s ids 0-65535');
  const config = (extra: object) => JSON.stringify({ jail: true, 'pid-isolation': true, hostname: null, layout: [{ type: 'root_mount', fs_type: 'RAMFS' }], ...extra });
  t.equal(parseConfig(config({ user_namespace: true, user: '1000:1000' }), 'c.json').userNamespace, true);
  t.equal(parseConfig(config({}), 'c.json').userNamespace, false, 'none unless asked');
  t.equal(parseConfig(config({ user: '70000' }), 'c.json').user?.uid, 70000, 'any user without one');
  t.throws(() => parseConfig(config({ user_namespace: true, user: '70000' }), 'c.json'), { message: 'c.json: user: "70000": 70000 is outside the user namespace\'s ids 0-65535 ("user_namespace": true)' });
  t.throws(() => parseConfig(config({ user_namespace: 'yes' }), 'c.json'), { message: 'c.json: user_namespace: expected boolean, got "yes"' });
});

// NOTE: the Makefile's rule, run on files of the test's own (SUBUID, SUBGID): the first multiple
// of 65536 at or above 100000 that overlaps no entry of either file.
t.test('make subids: the first free multiple of 65536 from 100000, in both files, once', { skip: process.getuid?.() === 0 ? false : 'make subids adds the range only as root' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fusejail-subids-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [uid, gid] = [join(dir, 'subuid'), join(dir, 'subgid')];
  const make = () => execFileSync('make', ['-s', '-C', repo, 'subids', `SUBUID=${uid}`, `SUBGID=${gid}`], { encoding: 'utf8' });
  const line = (file: string) => readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('fusejail:'));
  writeFileSync(uid, '');
  writeFileSync(gid, '');
  make();
  t.same([line(uid), line(gid)], ['fusejail:131072:65536', 'fusejail:131072:65536'], 'empty files: 131072');
  writeFileSync(uid, 'alice:100000:65536\nbob:165536:65536');
  writeFileSync(gid, 'carol:231072:10\n');
  make();
  t.same([line(uid), line(gid)], ['fusejail:262144:65536', 'fusejail:262144:65536'], 'past alice and bob (subuid) and carol (subgid)');
  t.equal(readFileSync(uid, 'utf8'), 'alice:100000:65536\nbob:165536:65536\nfusejail:262144:65536\n', 'a last line without its newline is kept whole');
  t.equal(make(), '', 'present: nothing is added');
  writeFileSync(gid, 'carol:100000:10\n');
  writeFileSync(uid, 'fusejail:196608:65536\n');
  make();
  t.equal(line(gid), 'fusejail:196608:65536', 'one file has it: the other gets the same START when it is free there');
});
