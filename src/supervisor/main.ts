// The supervisor: one per host (per state directory), started on demand, owner of every resource.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FusejailError, isFusejailError } from '../errors.js';
import { FS_TYPE, unmount } from '../host/mounts.js';
import { unpinHostname } from '../launcher/hostname-pin.js';
import { stopPasta } from '../launcher/private-network.js';
import { ContainerCgroup } from '../resources/cgroup.js';
import { ensureStateDir, socketPath, stateDir } from '../protocol/state-dir.js';
import { serveSocket } from './server.js';
import { Supervisor } from './supervisor.js';

/**
 * After a SIGKILL nothing of ours runs any more (inits and context servers follow their pipes),
 * but FUSE mounts and namespace pins stay: clear every one under our state directory, and say so.
 */
async function clearStale(dir: string): Promise<void> {
  // NOTE: a root exposed elsewhere is known by its source, which names our state directory.
  const ours = (point: string, source: string) => point.startsWith(`${dir}/`) || source.startsWith(`fusejail:${dir}/`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || !ours(fields[4]!, fields[dash + 2] ?? '')) continue;
    const [point, type] = [fields[4]!, fields[dash + 1]!];
    if (type === FS_TYPE) await unmount(point);
    else if (type === 'nsfs') await unpinHostname(point);
    else continue;
    process.stderr.write(`fusejail: cleared a stale ${type !== 'nsfs' ? 'VFS root context mount' : point.includes('/ns/net-') ? 'private network pin' : 'hostname context pin'} at ${point}\n`);
  }
  for (const cgroup of await ContainerCgroup.clearStale(dir)) process.stderr.write(`fusejail: cleared a stale cgroup at ${cgroup}\n`);
  // NOTE: a private network's pasta runs on in the background; its pid file says which it is.
  try {
    for (const f of readdirSync(join(dir, 'ns')).filter((n) => n.endsWith('.pasta.pid'))) stopPasta(join(dir, 'ns', f));
  } catch {}
  for (const sub of ['vfs', 'ns']) rmSync(join(dir, sub), { recursive: true, force: true });
}

class AlreadyRunning extends FusejailError {
  constructor(pid: number, dir: string) {
    super('ALREADY_RUNNING', `a supervisor (pid ${pid}) already serves ${dir}`);
  }
}

/**
 * One supervisor per state directory: the pid file is created exclusively; one left by a dead
 * supervisor (or by a pid now reused by something else) is replaced.
 */
function lock(dir: string): void {
  const file = join(dir, 'supervisor.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      process.on('exit', () => rmSync(file, { force: true }));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(readFileSync(file, 'utf8'));
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {}
    if (cmdline.includes('supervisor/main.js')) throw new AlreadyRunning(pid, dir);
    rmSync(file, { force: true });
  }
  throw new AlreadyRunning(0, dir);
}

async function main(): Promise<void> {
  const dir = ensureStateDir(stateDir());
  lock(dir);
  await clearStale(dir);
  const supervisor = new Supervisor(dir);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    await supervisor.teardown();
    server.close();
    rmSync(socketPath(dir), { force: true });
    process.stderr.write(`fusejail: supervisor stopped (${why})\n`);
    process.exit(0);
  };
  const server = await serveSocket(socketPath(dir), supervisor, () => void stop('shutdown requested'));
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  process.stderr.write(`fusejail: supervisor listening on ${socketPath(dir)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`fusejail: supervisor: ${isFusejailError(err) ? err.message : ((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
