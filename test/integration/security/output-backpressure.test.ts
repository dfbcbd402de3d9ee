// Output flows at the reader's pace: the supervisor and the CLI stay small, and every byte arrives.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fusejail, fuseUnavailable } from '../../helpers/fuse.js';
import { cli } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();
const MiB = 1 << 20;

/** Resident memory of a process, in bytes (0 once it is gone). */
function rss(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
  } catch {
    return 0;
  }
}

for (const [mode, flags, size] of [['pipes', [], 300 * MiB], ['a terminal', ['-t'], 64 * MiB]] as const) {
  t.test(`${size / MiB} MiB on ${mode} to a reader that waits, then reads: memory bounded, nothing lost`, { skip }, async (t) => {
    const { dir, run } = cli(t);
    t.equal((await run(['run', '-d', '--name', 'bp', '--', 'sleep', '100'])).status, 0);
    t.teardown(() => run(['rm', '-f', 'bp']));
    const supervisor = Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8'));
    const before = rss(supervisor);
    const args = ['exec', ...flags, 'bp', '--', 'head', '-c', String(size), '/dev/zero'];
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', `FUSEJAIL_STATE_DIR=${dir}`, fusejail, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => child.kill('SIGKILL'));
    let received = 0;
    let peakSupervisor = before;
    let peakCli = 0;
    const sampler = setInterval(() => {
      peakSupervisor = Math.max(peakSupervisor, rss(supervisor));
      peakCli = Math.max(peakCli, rss(child.pid!));
    }, 100);
    // The reader reads nothing for 4 s, then slowly (a pause after each chunk), then all the rest.
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 4000));
    child.stdout.on('data', (d: Buffer) => {
      received += d.length;
      if (received < 20 * MiB) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 2);
      }
    });
    child.stdout.resume();
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(sampler);
    t.equal(status, 0);
    t.equal(received, size, 'every byte arrived');
    t.ok(peakSupervisor - before < 100 * MiB, `the supervisor grew by ${((peakSupervisor - before) / MiB).toFixed(0)} MiB (bound: 100)`);
    t.ok(peakCli < 200 * MiB, `the CLI peaked at ${(peakCli / MiB).toFixed(0)} MiB (bound: 200)`);
  });
}
