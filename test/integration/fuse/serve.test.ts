// `fusejail serve`: clear errors for a bad mountpoint, a clean unmount, a stale mount cleared.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { asUser, fusejail, fuseUnavailable, sh, tempDir } from '../../helpers/fuse.js';
import { mountedHere } from '../../../src/host/mounts.js';

const skip = fuseUnavailable();
const config = { jail: false, 'pid-isolation': false, hostname: null, layout: [{ type: 'mount', target: '/w', fs_type: 'RAMFS' }] };

function setup(t: { teardown(fn: () => void): void }) {
  const dir = tempDir('serve-cli');
  t.teardown(() => {
    try {
      execFileSync('fusermount', ['-uz', join(dir, 'root')], { stdio: 'ignore' });
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
  return dir;
}

const run = (args: string) => sh(`env -u NODE_OPTIONS ${fusejail} ${args}`);

t.test('an unusable mountpoint is a clear error with exit 1', { skip }, async (t) => {
  const dir = setup(t);
  const missing = run(`serve -f ${dir}/c.json ${dir}/nope`);
  t.equal(missing.status, 1);
  t.match(missing.stderr, `mountpoint ${dir}/nope does not exist`);
  writeFileSync(join(dir, 'root/x'), '');
  const full = run(`serve -f ${dir}/c.json ${dir}/root`);
  t.equal(full.status, 1);
  t.match(full.stderr, `mountpoint ${dir}/root is not empty`);
  const notDir = run(`serve -f ${dir}/c.json ${dir}/c.json`);
  t.match(notDir.stderr, 'is not a directory');
  const badConfig = run(`serve -f ${dir}/none.json ${dir}/root`);
  t.equal(badConfig.status, 1);
  t.match(badConfig.stderr, `${dir}/none.json: cannot read the config (ENOENT)`);
});

function start(t: { teardown(fn: () => void): void }, dir: string) {
  const p = spawn(...asUser(fusejail, ['serve', '-f', join(dir, 'c.json'), join(dir, 'root')]), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  t.teardown(() => {
    if (p.exitCode === null) p.kill('SIGKILL');
  });
  const ready = new Promise<void>((res, rej) => {
    const poll = setInterval(() => {
      if (err.includes('serving')) res(clearInterval(poll));
      else if (p.exitCode !== null) rej(new Error(err));
    }, 20);
  });
  return { p, ready, err: () => err, exited: new Promise<number | null>((res) => p.on('exit', res)) };
}

t.test('SIGTERM and SIGINT unmount cleanly; a busy mountpoint is refused', { skip }, async (t) => {
  const dir = setup(t);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const s = start(t, dir);
    await s.ready;
    t.equal(mountedHere(join(dir, 'root'))?.fsType, 'fuse.fusejail');
    const second = run(`serve -f ${dir}/c.json ${dir}/root`);
    t.match(second.stderr, 'is in use (fuse.fusejail is mounted there)');
    s.p.kill(signal);
    t.equal(await s.exited, 0, `exit 0 after ${signal}`);
    t.equal(mountedHere(join(dir, 'root')), undefined, 'nothing left mounted');
  }
});

t.test('a server killed with SIGKILL leaves a stale mount that the next serve clears', { skip }, async (t) => {
  const dir = setup(t);
  const s = start(t, dir);
  await s.ready;
  // The context server is the serve program's child (which is the CLI's); kill it the hard way.
  const server = sh(`pgrep -P ${sh(`pgrep -P ${s.p.pid}`).stdout.trim()}`).stdout.trim();
  process.kill(Number(server), 'SIGKILL');
  await s.exited;
  t.throws(() => statSync(join(dir, 'root')), { code: 'ENOTCONN' }, 'the mount is stale');
  const again = start(t, dir);
  await again.ready;
  t.match(again.err(), `cleared a stale fusejail mount at ${dir}/root`);
  writeFileSync(join(dir, 'root/w/f'), 'works');
  t.equal(readFileSync(join(dir, 'root/w/f'), 'utf8'), 'works');
  again.p.kill('SIGTERM');
  t.equal(await again.exited, 0);
});
