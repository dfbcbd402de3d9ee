// A bad config file, run through the CLI: exit 1, one line naming the file, the JSON path and what
// was expected, and nothing created: no supervisor started, no state, no mount.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, tempDir } from '../../helpers/fuse.js';
import { cli, mountsUnder } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();
const valid = {
  jail: true,
  'pid-isolation': true,
  hostname: 'box',
  layout: [
    { type: 'root_mount', fs_type: 'RAMFS' },
    { type: 'mount', source: '/usr', target: '/usr', fs_type: 'bind', read_only: true },
  ],
};

const CASES: [string, (c: Record<string, unknown>) => unknown, string][] = [
  ['a missing key', (c) => delete c.hostname, 'missing key "hostname"'],
  ['a wrong type', (c) => (c['pid-isolation'] = 'yes'), 'pid-isolation: expected boolean, got "yes"'],
  ['an unknown layout type', (c) => (c.layout as unknown[]).push({ type: 'overlay', target: '/o' }), 'layout[2].type: "overlay" is not a layout type (expected one of root_mount, directory, copy_custom, copy_original, symlink, mount, bindmount, hide)'],
  ['a non-canonical path', (c) => (c.layout as unknown[]).push({ type: 'directory', target: '/usr/../etc' }), 'layout[2].target: "/usr/../etc" is not an absolute canonical path (it must not contain a ".." component)'],
  ['a source missing on the host', (c) => (c.layout as unknown[]).push({ type: 'copy_custom', source: '/no/such/file', target: '/f' }), 'layout[2].source: "/no/such/file" does not exist on the host'],
  ['a directory whose parent is not there', (c) => (c.layout as unknown[]).push({ type: 'directory', target: '/a/b' }), 'layout[2].target: "/a/b" needs its parent /a first (a directory entry makes one level)'],
  ['a SysFS mount in a jail', (c) => (c.layout as unknown[]).push({ type: 'mount', target: '/sys', fs_type: 'SysFS' }), 'layout: a SysFS mount is refused in a jailed container'],
  ['an empty layout', (c) => (c.layout = []), 'layout: is empty (SerenityOS runc then keeps the caller\'s root; a fusejail container always gets its own, so describe it, e.g. as in examples/default.json)'],
];

t.test('every class of config error: its exact message, exit 1, nothing created', { skip }, async (t) => {
  const files = tempDir('configs');
  t.teardown(() => rmSync(files, { recursive: true, force: true }));
  for (const [what, spoil, message] of CASES) {
    const { dir, run } = cli(t);
    const config = structuredClone(valid) as Record<string, unknown>;
    spoil(config);
    const file = join(files, `${what.replace(/ /g, '-')}.json`);
    writeFileSync(file, JSON.stringify(config));
    const r = await run(['run', '-f', file, '--', '/bin/true']);
    t.equal(r.stderr, `fusejail: ${file}: ${message}\n`, what);
    t.equal(r.status, 1, `${what}: exit 1`);
    t.same(readdirSync(dir), [], `${what}: no supervisor was started, no state written`);
    t.same(mountsUnder(dir), []);
  }
});

t.test('a layout the root refuses while it is built: exit 1, the entry named, everything undone', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const files = tempDir('configs');
  t.teardown(() => rmSync(files, { recursive: true, force: true }));
  const file = join(files, 'ro.json');
  writeFileSync(file, JSON.stringify({ ...valid, layout: [...valid.layout, { type: 'directory', target: '/usr/new' }] }));
  const r = await run(['run', '-f', file, '--', '/bin/true']);
  t.equal(r.stderr, 'fusejail: VFS root context 1: layout: directory /usr/new: EROFS\n');
  t.equal(r.status, 1);
  t.same(JSON.parse((await run(['resources', '--json'])).stdout), [], 'no resource is left');
  t.same(mountsUnder(dir), []);
});

t.test('a SerenityOS config needs no change: null sources, its fs_type names, a string command', { skip }, async (t) => {
  const { run } = cli(t);
  const files = tempDir('configs');
  t.teardown(() => rmSync(files, { recursive: true, force: true }));
  const file = join(files, 'serenity.json');
  writeFileSync(
    file,
    JSON.stringify({
      jail: false,
      'pid-isolation': true,
      command: '/bin/sh -c echo',
      hostname: null,
      layout: [
        { type: 'root_mount', source: null, fs_type: 'RAMFS' },
        { type: 'directory', target: '/bin/', mode: '0755' },
        { type: 'directory', target: '/proc/' },
        { type: 'directory', target: '/sys/' },
        { type: 'directory', target: '/dev/', mode: '0755' },
        { type: 'directory', target: '/dev/pts/' },
        { type: 'copy_custom', source: '/bin/busybox', target: '/bin/busybox' },
        { type: 'symlink', path: '/bin/sh', target: '/bin/busybox' },
        { type: 'mount', source: 'none', target: '/proc/', fs_type: 'proc' },
        { type: 'mount', source: null, target: '/sys/', fs_type: 'SysFS' },
        { type: 'mount', source: null, target: '/dev/pts/', fs_type: 'DevPtsFS' },
      ],
    }),
  );
  const r = await run(['run', '-f', file, '--', '/bin/sh', '-c', 'busybox grep -E " /(proc|sys|dev/pts) " /proc/mounts | busybox cut -d" " -f1-3; busybox touch /sys/x; echo $?; busybox stat -c %a /proc /dev/pts']);
  t.equal(r.stdout, 'proc /proc proc\nsysfs /sys sysfs\ndevpts /dev/pts devpts\n1\n555\n755\n');
  t.equal(r.status, 0, 'one devpts at /dev/pts, sysfs read-only (touch failed)');
  t.equal((await run(['run', '-f', file])).stdout, '\n', 'the command string "/bin/sh -c echo" is split on spaces');
});
