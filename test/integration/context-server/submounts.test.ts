// Kernel mounts a launch puts over the served root survive table edits (expire, never inval_entry).
import { spawn } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { contextServerUnavailable, hostDir, ramfsRoot, startContext } from '../../helpers/context-server.js';

const skip = contextServerUnavailable() || (!existsSync('/usr/bin/unshare') ? 'needs unshare(1)' : false) || (!existsSync('/bin/busybox') ? 'needs busybox-static' : false);

// NOTE: a bind source is a real path (on Debian /bin is a symlink: a source through it is ELOOP).
t.test('a tmpfs mounted on a mountpoint stays while mounts below it come and go', { skip }, async (t) => {
  const c = await startContext(t, [
    ramfsRoot(),
    { op: 'mount', mount: { type: 'bind', target: '/bin/busybox', readOnly: true, source: realpathSync('/bin/busybox') } },
    { op: 'mount', mount: { type: 'mountpoint', target: '/dev', readOnly: true, fs: 'devpts' } },
  ]);
  const flags = hostDir(t, 'flags');
  // NOTE: a private mount namespace plays the launch: a tmpfs over <root>/dev, then it waits for
  // the table edits and reports what a chrooted process sees.
  const script = `
set -e
mount -t tmpfs none '${c.root}/dev'
echo marker > '${c.root}/dev/marker'
touch '${flags}/mounted'
while [ ! -e '${flags}/edited' ]; do sleep 0.02; done
chroot '${c.root}' /bin/busybox cat /dev/marker
chroot '${c.root}' /bin/busybox ls /extra
`;
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script]);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', res));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  while (!existsSync(join(flags, 'mounted')) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  // The kernel has looked up /dev (and its tmpfs sits on it) before these edits.
  await c.server.ask({ op: 'mount-add', mount: { type: 'ramfs', target: '/dev/shm', readOnly: false, size: 1 << 20, mode: 0o1777 } });
  await c.server.ask({ op: 'mount-add', mount: { type: 'ramfs', target: '/extra', readOnly: false, size: 1 << 20, mode: 0o755 } });
  await c.server.ask({ op: 'mount-rm', target: '/dev/shm' });
  writeFileSync(join(flags, 'edited'), '');
  t.equal(await exited, 0, err);
  t.equal(out, 'marker\n', 'the tmpfs on /dev survived, and /extra appeared at once');
});
