// The host side of a bind is never escaped, and a container root materialises no privilege on it.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, serve, sh, tempDir } from '../../helpers/fuse.js';

const skip = fuseUnavailable();

/** Runs a Python program for its JSON result (a second process, so races are real). */
function python(program: string, args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', program, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, number>) : reject(new Error(`python exited ${code}`))));
  });
}

// Swaps src/d between the real directory and a symlink to the outside, holding each briefly so
// the kernel often has d cached as a directory while the host has the symlink in place.
const SWAPPER = `
import os, sys, time, json
src, outside, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
stop = sys.argv[4] if len(sys.argv) > 4 else None
d, real, tmp = os.path.join(src, 'd'), os.path.join(src, 'd.real'), os.path.join(src, 'd.tmp')
swaps, end = 0, time.time() + seconds
while time.time() < end and not (stop and os.path.exists(stop)):
    os.rename(d, real)
    os.symlink(outside, tmp)
    os.rename(tmp, d)
    time.sleep(0.0005)
    os.unlink(d)
    os.rename(real, d)
    time.sleep(0.0005)
    swaps += 1
print(json.dumps({'swaps': swaps}))
`;

// Reads and lists through the mount as a container does, with its root as "/": a symlink the
// kernel gets back is then resolved inside the root, so only the server could reach the outside.
const READER = `
import os, sys, time, json
os.chroot(sys.argv[1])
d, seconds = '/w/d', float(sys.argv[2])
import errno
r = {'reads': 0, 'errors': 0, 'eloop': 0, 'secret': 0, 'lists': 0, 'secretNames': 0}
end = time.time() + seconds
while time.time() < end:
    try:
        with open(os.path.join(d, 'f'), 'rb') as fh:
            data = fh.read()
        r['reads'] += 1
        if b'SECRET' in data: r['secret'] += 1
    except OSError as e:
        r['errors'] += 1
        if e.errno == errno.ELOOP: r['eloop'] += 1
    try:
        names = os.listdir(d)
        r['lists'] += 1
        if 'secretname' in names: r['secretNames'] += 1
    except OSError:
        r['errors'] += 1
print(json.dumps(r))
`;

/** A bind source with d/f = "inside", and outside it a directory the swapper links d to. */
function raceFixture(t: { teardown(fn: () => void): void }): { src: string; outside: string } {
  const src = tempDir('race-src');
  const outside = tempDir('race-outside');
  t.teardown(() => {
    rmSync(src, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  mkdirSync(join(src, 'd'));
  writeFileSync(join(src, 'd/f'), 'inside\n');
  writeFileSync(join(outside, 'f'), 'SECRET\n');
  writeFileSync(join(outside, 'secretname'), 'SECRET\n');
  return { src, outside };
}

t.test('a symlink swapped into a bind source never leads outside it', { skip }, async (t) => {
  const { src, outside } = raceFixture(t);
  const s = await serve(t, { hostname: null, layout: [{ type: 'mount', source: src, target: '/w', fs_type: 'bind' }] });
  const seconds = '4';
  const [swapper, ...readers] = await Promise.all([
    python(SWAPPER, [src, outside, seconds]),
    python(READER, [s.root, seconds]),
    python(READER, [s.root, seconds]),
  ]);
  t.ok(swapper!.swaps > 100, `the host swapped the directory ${swapper!.swaps} times`);
  const sum = (k: string) => readers.reduce((n, r) => n + r[k]!, 0);
  // NOTE: how many of these reach the server depends on the kernel's caches and the load; the
  // backend is raced directly below, where meeting the symlink is certain.
  t.ok(sum('reads') + sum('errors') > 1000, `thousands of reads went through the mount (${sum('reads')} ok, ${sum('eloop')} refused by the server with ELOOP, ${sum('errors') - sum('eloop')} in the kernel)`);
  t.equal(sum('secret'), 0, 'no byte from outside the source was ever returned');
  t.equal(sum('secretNames'), 0, 'no name from outside the source was ever listed');
  t.equal(readFileSync(join(outside, 'f'), 'utf8'), 'SECRET\n');
});

// NOTE: a name read here is new to the kernel (or its 1 s entry expired), so while the kernel holds
// d as a directory each open is a LOOKUP the server answers by resolving d/fN beneath the source
// at that moment: the race is with the server itself, not with what the kernel cached.
const FRESH_READER = `
import os, sys, time, json, errno
stop = sys.argv[3]
stop_dir = os.open(os.path.dirname(stop), os.O_RDONLY)
os.chroot(sys.argv[1])
r = {'inside': 0, 'secret': 0, 'eloop': 0, 'other': 0}
start, i = time.time(), 0
end = start + float(sys.argv[2])
# NOTE: which state the kernel caches d in (directory, link, or absent mid-swap) is decided once
# a second, so this reads until it has met both, for up to the given time.
while time.time() < end and not (r['inside'] and r['eloop'] and time.time() > start + 2):
    try:
        with open('/w/d/f%d' % (i % 20000), 'rb') as fh:
            data = fh.read()
        if b'SECRET' in data: r['secret'] += 1
        else: r['inside'] += 1
    except OSError as e:
        if e.errno == errno.ELOOP: r['eloop'] += 1
        else: r['other'] += 1
    i += 1
os.close(os.open(os.path.basename(stop), os.O_CREAT | os.O_WRONLY, dir_fd=stop_dir))
print(json.dumps(r))
`;

t.test('the server itself, raced with fresh names: every lookup meets the real file or is refused', { skip }, async (t) => {
  const { src, outside } = raceFixture(t);
  for (let i = 0; i < 20000; i++) {
    writeFileSync(join(src, `d/f${i}`), 'inside\n');
    writeFileSync(join(outside, `f${i}`), 'SECRET\n');
  }
  const s = await serve(t, { hostname: null, layout: [{ type: 'mount', source: src, target: '/w', fs_type: 'bind' }] });
  const stopDir = tempDir('race-stop');
  t.teardown(() => rmSync(stopDir, { recursive: true, force: true }));
  const stop = join(stopDir, 'stop');
  const [, counts] = await Promise.all([python(SWAPPER, [src, outside, '30', stop]), python(FRESH_READER, [s.root, '30', stop])]);
  t.equal(counts!.secret, 0, 'never the outside file');
  t.ok(counts!.inside > 0, `the real file when the directory was in place (${counts!.inside})`);
  t.ok(counts!.eloop > 0, `ELOOP when the symlink was (${counts!.eloop}; ${counts!.other} ENOENT mid-swap)`);
});

t.test('no set-uid/set-gid file and no device node is created in a bind source', { skip }, async (t) => {
  const src = tempDir('priv-src');
  chmodSync(src, 0o755);
  t.teardown(() => rmSync(src, { recursive: true, force: true }));
  const s = await serve(t, { hostname: null, layout: [{ type: 'mount', source: src, target: '/w', fs_type: 'bind' }] });
  const w = join(s.root, 'w');
  writeFileSync(join(w, 'tool'), '#!/bin/sh\nid -u\n');
  for (const mode of ['u+s', 'g+s', '4755', '2755']) {
    const r = sh(`chmod ${mode} '${join(w, 'tool')}'`);
    t.not(r.status, 0, `chmod ${mode} is refused`);
    t.match(r.stderr, 'Operation not permitted');
  }
  t.equal(statSync(join(src, 'tool')).mode & 0o6000, 0, 'the host file has no set-id bit');
  const dev = sh(`mknod '${join(w, 'null2')}' c 1 3`);
  t.match(dev.stderr, 'Operation not permitted', 'a character device is refused');
  t.match(sh(`mknod '${join(w, 'blk')}' b 8 0`).stderr, 'Operation not permitted', 'a block device is refused');
  t.notOk(existsSync(join(src, 'null2')) || existsSync(join(src, 'blk')), 'nothing was created on the host');
  t.equal(sh(`mkfifo '${join(w, 'fifo')}'`).status, 0, 'a FIFO is harmless and allowed');
  t.ok(statSync(join(src, 'fifo')).isFIFO());
  t.equal(sh(`mkdir '${join(w, 'shared')}' && chmod g+s '${join(w, 'shared')}'`).status, 0, 'set-gid on a directory only sets group inheritance');
});

t.test('a read-only bind answers EROFS and leaves the host untouched', { skip }, async (t) => {
  const src = tempDir('ro-src');
  t.teardown(() => rmSync(src, { recursive: true, force: true }));
  writeFileSync(join(src, 'f'), 'original');
  const s = await serve(t, { hostname: null, layout: [{ type: 'mount', source: src, target: '/w', fs_type: 'bind', read_only: true }] });
  const w = join(s.root, 'w');
  t.equal(readFileSync(join(w, 'f'), 'utf8'), 'original');
  for (const cmd of [`echo x > '${w}/f'`, `touch '${w}/new'`, `rm '${w}/f'`, `mkdir '${w}/d'`, `chmod 777 '${w}/f'`, `mv '${w}/f' '${w}/g'`, `ln -s f '${w}/l'`, `truncate -s 0 '${w}/f'`]) {
    t.match(sh(cmd).stderr, 'Read-only file system', cmd);
  }
  t.equal(readFileSync(join(src, 'f'), 'utf8'), 'original');
});

t.test('a copy is private: changes through the mount never reach the host', { skip }, async (t) => {
  const src = tempDir('copy-src');
  t.teardown(() => rmSync(src, { recursive: true, force: true }));
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'etc/conf'), 'host');
  const s = await serve(t, { hostname: null, layout: [{ type: 'copy_custom', source: src, target: '/c' }] });
  const c = join(s.root, 'c');
  t.equal(sh(`echo mine >> '${c}/etc/conf' && rm -r '${c}/etc' && mkdir '${c}/etc' && echo new > '${c}/etc/other'`).status, 0);
  t.same(sh(`ls '${c}/etc'`).stdout, 'other\n', 'the deleted host entries stay hidden');
  t.equal(readFileSync(join(src, 'etc/conf'), 'utf8'), 'host');
  t.notOk(existsSync(join(src, 'etc/other')));
});

t.test('a source containing the mountpoint is refused (the server would walk into itself)', { skip }, async (t) => {
  const dir = tempDir('loop');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'c.json'), JSON.stringify({ jail: false, 'pid-isolation': false, hostname: null, layout: [{ type: 'mount', source: dir, target: '/w', fs_type: 'bind' }] }));
  const r = sh(`env -u NODE_OPTIONS ${join(import.meta.dirname, '../../../bin/fusejail')} serve -f '${dir}/c.json' '${dir}/root'`);
  t.equal(r.status, 1);
  t.match(r.stderr, `source ${dir} contains the mountpoint ${dir}/root`);
});
