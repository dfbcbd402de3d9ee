import t from 'tap';
import { parseConfig } from '../../../src/protocol/config.js';

const base = { jail: true, 'pid-isolation': true, command: '/bin/sh -l', hostname: 'box', layout: [{ type: 'root_mount', fs_type: 'RAMFS' }] as unknown[] };
const parse = (over: Record<string, unknown>) => parseConfig(JSON.stringify({ ...base, ...over }), 'x.json');
const error = (over: Record<string, unknown> | string) => {
  try {
    if (typeof over === 'string') parseConfig(over, 'x.json');
    else parse(over);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

t.test('a SerenityOS-style config parses into layout operations', async (t) => {
  const c = parse({
    layout: [
      { type: 'root_mount', fs_type: 'RAMFS' },
      { type: 'directory', target: '/bin/' },
      { type: 'directory', target: '/tmp/', mode: '1777' },
      { type: 'copy_custom', source: '/bin/busybox', target: '/bin/busybox' },
      { type: 'copy_original', sources: ['/etc/passwd', '/etc/group'] },
      { type: 'symlink', path: '/bin/sh', target: '/bin/busybox' },
      { type: 'mount', source: 'none', target: '/proc/', fs_type: 'ProcFS' },
      { type: 'mount', source: '/usr', target: '/usr', fs_type: 'bind', read_only: true },
    ],
  });
  t.same(c.command, ['/bin/sh', '-l'], 'a string command is split on spaces');
  t.equal(c.jail, true);
  t.equal(c.pidIsolation, true);
  t.same(c.layout, [
    { op: 'root', kind: 'ramfs' },
    { op: 'directory', target: '/bin', mode: 0o700 },
    { op: 'directory', target: '/tmp', mode: 0o1777 },
    { op: 'copy', source: '/bin/busybox', target: '/bin/busybox' },
    { op: 'copy', source: '/etc/passwd', target: '/etc/passwd' },
    { op: 'copy', source: '/etc/group', target: '/etc/group' },
    { op: 'symlink', path: '/bin/sh', target: '/bin/busybox' },
    { op: 'mount', kind: 'proc', target: '/proc', readOnly: false },
    { op: 'mount', kind: 'bind', source: '/usr', target: '/usr', readOnly: true },
  ]);
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.layout), 'the result is immutable');
});

t.test('every error names the file, the JSON path and what was expected', async (t) => {
  t.match(error('{'), /^x\.json: not valid JSON \(.+\)$/);
  t.equal(error({ hostname: undefined }), 'x.json: missing key "hostname"');
  t.equal(error({ jail: 'yes' }), 'x.json: jail: expected boolean, got "yes"');
  t.equal(error({ jail: undefined }), 'x.json: missing key "jail"', 'jail must be said, as in SerenityOS');
  t.equal(error({ 'pid-isolation': undefined }), 'x.json: missing key "pid-isolation"');
  t.equal(error({ layout: [] }), 'x.json: layout: is empty (SerenityOS runc then keeps the caller\'s root; a fusejail container always gets its own, so describe it, e.g. as in examples/default.json)');
  t.equal(error({ command: 5 }), 'x.json: command: expected string, got 5');
  t.equal(error({ layout: [{ type: 'overlay' }] }), 'x.json: layout[0].type: "overlay" is not a layout type (expected one of root_mount, directory, copy_custom, copy_original, symlink, mount, bindmount, hide)');
  t.equal(error({ layout: [{ type: 'copy_executable', source: '/bin/ls', target: '/bin/ls' }] }), 'x.json: layout[0].type: "copy_executable" (SerenityOS\'s copy of a program with its libraries) is not supported; bind the host\'s /usr read-only, or copy_original the program and each library');
  t.equal(error({ layout: [{ type: 'directory' }] }), 'x.json: layout[0]: missing key "target"');
  t.equal(error({ layout: [{ type: 'directory', target: '/a', colour: 1 }] }), 'x.json: layout[0]: unknown key "colour"');
  t.equal(error({ layout: [{ type: 'directory', target: '/usr/../etc' }] }), 'x.json: layout[0].target: "/usr/../etc" is not an absolute canonical path (it must not contain a ".." component)');
  t.equal(error({ layout: [{ type: 'directory', target: 'tmp' }] }), 'x.json: layout[0].target: "tmp" is not an absolute canonical path (it must be absolute)');
  t.equal(error({ layout: [{ type: 'copy_custom', source: '/no/such/file', target: '/f' }] }), 'x.json: layout[0].source: "/no/such/file" does not exist on the host');
  t.equal(error({ layout: [{ type: 'mount', target: '/m', fs_type: 'NFS' }] }), 'x.json: layout[0].fs_type: expected one of "ProcFS", "SysFS", "RAMFS", "DevPTS", "bind" (or SerenityOS\'s "proc", "sys", "ram", "DevPtsFS", "devpts"), got "NFS"');
  t.equal(error({ layout: [{ type: 'root_mount', fs_type: 'RAMFS', source: '/usr' }] }), 'x.json: layout[0]: give either fs_type "RAMFS" or a host source, not both');
  t.equal(error({ layout: [{ type: 'directory', target: '/a' }, { type: 'root_mount', fs_type: 'RAMFS' }] }), 'x.json: layout[1]: root_mount must be the first layout entry');
  t.equal(error({ layout: [{ type: 'mount', target: '/t', fs_type: 'RAMFS' }, { type: 'mount', target: '/t/', fs_type: 'RAMFS' }] }), 'x.json: layout[1].target: "/t/" is already used by layout[0]');
  t.equal(error({ hostname: 'bad_name' }), 'x.json: hostname: "bad_name" may contain only letters, digits, "-" and "." (each label starting and ending with a letter or digit)');
  t.equal(error({ hostname: 'a'.repeat(65) }), `x.json: hostname: "${'a'.repeat(65)}" is longer than 64 bytes`);
  t.equal(error({ layout: [{ type: 'mount', target: '/sys', fs_type: 'SysFS' }] }), 'x.json: layout: a SysFS mount is refused in a jailed container');
});

t.test('SerenityOS spellings: null and "none" sources, kernel fs names, bindmount', async (t) => {
  const c = parse({
    layout: [
      { type: 'root_mount', source: null, fs_type: 'RAMFS' },
      { type: 'mount', source: null, target: '/proc', fs_type: 'proc' },
      { type: 'mount', source: 'none', target: '/dev/pts', fs_type: 'DevPtsFS' },
      { type: 'mount', target: '/t', fs_type: 'ram' },
      { type: 'bindmount', source: '/usr', target: '/usr' },
    ],
  });
  t.same(c.layout, [
    { op: 'root', kind: 'ramfs' },
    { op: 'mount', kind: 'proc', target: '/proc', readOnly: false },
    { op: 'mount', kind: 'devpts', target: '/dev/pts', readOnly: false },
    { op: 'mount', kind: 'ramfs', target: '/t', readOnly: false },
    { op: 'mount', kind: 'bind', source: '/usr', target: '/usr', readOnly: false },
  ]);
  t.same(parse({ layout: [{ type: 'root_mount', source: 'none', fs_type: 'RAMFS' }] }).layout, [{ op: 'root', kind: 'ramfs' }]);
  t.same(parse({ command: ['/bin/echo', 'a b'] }).command, ['/bin/echo', 'a b'], 'an array command is taken as it is');
  t.same(parse({ command: ' /bin/echo  a ' }).command, ['/bin/echo', 'a'], 'a string is split on spaces, empty words dropped');
  const sys = parse({ jail: false, layout: [{ type: 'mount', target: '/sys', fs_type: 'SysFS' }] });
  t.same(sys.layout, [{ op: 'mount', kind: 'sys', target: '/sys', readOnly: true }], 'SysFS is always read-only');
});

t.test('hostname null keeps the host hostname; extensions are read', async (t) => {
  const c = parse({ hostname: null, env: { A: '1' }, cwd: '/tmp/', user: '1000:1000', max_processes: 64, exec_allow: ['/bin/sh'] });
  t.equal(c.hostname, null);
  t.same(c.env, { A: '1' });
  t.equal(c.cwd, '/tmp');
  t.same(c.user, { uid: 1000, gid: 1000 });
  t.equal(c.maxProcesses, 64);
  t.same(c.execAllow, ['/bin/sh']);
});

t.test('a RAMFS may have a size; nothing else may', async (t) => {
  const c = parse({ layout: [{ type: 'root_mount', fs_type: 'RAMFS', size: '2M' }, { type: 'mount', target: '/tmp', fs_type: 'RAMFS', size: 4096 }] });
  t.same(c.layout, [
    { op: 'root', kind: 'ramfs', size: 2 * 1024 * 1024 },
    { op: 'mount', kind: 'ramfs', target: '/tmp', readOnly: false, size: 4096 },
  ]);
  t.equal(error({ layout: [{ type: 'root_mount', fs_type: 'RAMFS' }, { type: 'mount', target: '/tmp', fs_type: 'RAMFS', size: '1Q' }] }), 'x.json: layout[1].size: "1Q": not a size (use a number with an optional k, M or G suffix)');
  t.equal(error({ layout: [{ type: 'root_mount', fs_type: 'RAMFS' }, { type: 'mount', target: '/tmp', fs_type: 'RAMFS', size: 0 }] }), 'x.json: layout[1].size: 0: must be more than 0 bytes');
  t.equal(error({ layout: [{ type: 'root_mount', fs_type: 'RAMFS' }, { type: 'mount', target: '/proc', fs_type: 'ProcFS', size: '1M' }] }), 'x.json: layout[1].size: only a RAMFS has a size');
});

t.test('network, publish, memory and cpus: defaults, values, and errors naming the value', async (t) => {
  t.same(parse({}).network, { mode: 'none' }, 'a jailed config has no network unless it asks');
  t.same(parse({ jail: false }).network, { mode: 'host' }, 'an unjailed one keeps the host\'s');
  t.same(parse({ network: 'container:web' }).network, { mode: 'container', name: 'web' });
  t.same(parse({ network: 'private', publish: ['8080:80', '5353:53/udp'] }).network, {
    mode: 'private',
    publish: [{ host: 8080, container: 80, protocol: 'tcp' }, { host: 5353, container: 53, protocol: 'udp' }],
  });
  t.same([parse({ memory: '64M' }).memory, parse({ memory: 1024 }).memory, parse({ memory: '1.5k' }).memory, parse({ cpus: 0.5 }).cpus], [64 * 2 ** 20, 1024, 1536, 0.5]);
  t.equal(error({ network: 'bogus' }), 'x.json: network: "bogus": not a network mode (expected none, host, private or container:NAME)');
  t.equal(error({ network: 'private', publish: ['70000:80'] }), 'x.json: publish[0]: "70000:80": ports are 1 to 65535');
  t.equal(error({ publish: ['8080:80'] }), 'x.json: publish: ports can only be published with "network": "private"');
  t.equal(error({ memory: '1Q' }), 'x.json: memory: "1Q": not a size (use a number with an optional k, M or G suffix)');
  t.equal(error({ memory: 0 }), 'x.json: memory: 0: must be more than 0 bytes');
  t.equal(error({ cpus: -1 }), 'x.json: cpus: -1: expected a number of CPUs above 0 (fractions allowed, e.g. 0.5)');
});
