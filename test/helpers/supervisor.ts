// Test helper: the CLI against a private state directory, and a supervisor that is always stopped.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fusejail, tempDir } from './fuse.js';

export interface Cli {
  dir: string;
  /** Runs the CLI with `input` (if any) on its stdin (and not as if through sudo). */
  run(args: string[], input?: string): Promise<{ status: number; stdout: string; stderr: string }>;
}

export function cli(t: { teardown(fn: () => unknown): void }): Cli {
  const dir = tempDir('state');
  chmodSync(dir, 0o700);
  const run = (args: string[], input?: string) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', '-u', 'SUDO_UID', '-u', 'SUDO_GID', `FUSEJAIL_STATE_DIR=${dir}`, fusejail, ...args], (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end(input ?? '');
    });
  t.teardown(async () => {
    await run(['daemon', '--stop']);
    const pidFile = join(dir, 'supervisor.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, run };
}

/** Lines in /proc/mounts under `dir` (FUSE roots and namespace pins). */
export const mountsUnder = (dir: string): string[] => readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(`${dir}/`));

/** Whether a host process still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it holds or `ms` pass; true if it came to hold. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
  return false;
}

/** Whether tmux is here to drive an interactive terminal. */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}
