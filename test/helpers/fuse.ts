// Test helper: serve a layout through the real `fusejail serve`, and always tear it down.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../..');
export const fusejail = join(repo, 'bin/fusejail');

/** Why FUSE integration tests cannot run here, or false when they can. */
// NOTE: tap's processinfo adds its module loaders to NODE_OPTIONS of every child it sees spawned;
// `env -u` takes them off again, so the CLI runs as it does for a user.
export const asUser = (program: string, args: string[]): [string, string[]] => ['/usr/bin/env', ['-u', 'NODE_OPTIONS', program, ...args]];

export function fuseUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (mounts with allow_other and chown)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse on this machine';
  if (!existsSync(fusejail)) return `not built: ${fusejail} is missing (run make build)`;
  return false;
}

export interface Served {
  root: string;
  dir: string;
  server: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

const live = new Set<Served>();
// NOTE: a test that throws, or is stopped by tap's timeout, still leaves no mount behind:
// whatever is live at exit is unmounted.
function unmountAll(): void {
  for (const s of live) {
    s.server.kill('SIGKILL');
    try {
      execFileSync('fusermount', ['-uz', s.root], { stdio: 'ignore' });
    } catch {}
  }
  live.clear();
}
process.on('exit', unmountAll);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    unmountAll();
    process.kill(process.pid, signal);
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fusejail-${prefix}-`));
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Serves `config` (a container config object) at a fresh directory; unmounted at teardown. */
export async function serve(t: Teardown, config: object): Promise<Served> {
  const dir = tempDir('serve');
  chmodSync(dir, 0o755);
  const root = join(dir, 'root');
  mkdirSync(root);
  const file = join(dir, 'config.json');
  // NOTE: serving reads only the layout; the keys every config must have are filled in here.
  writeFileSync(file, JSON.stringify({ jail: false, 'pid-isolation': false, ...config }));
  const server = spawn(...asUser(fusejail, ['serve', '-f', file, root]), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => server.on('exit', (code) => res(code)));
  const served: Served = {
    root,
    dir,
    server,
    stderr: () => stderr,
    async stop() {
      server.kill('SIGTERM');
      const code = await exited;
      live.delete(served);
      try {
        execFileSync('fusermount', ['-uz', root], { stdio: 'ignore' });
      } catch {}
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  live.add(served);
  t.teardown(() => served.stop());
  const ready = await new Promise<boolean>((res) => {
    const deadline = Date.now() + 20_000;
    const poll = setInterval(() => {
      if (stderr.includes('serving') || server.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        res(stderr.includes('serving'));
      }
    }, 20);
  });
  if (!ready) throw new Error(`fusejail serve did not start: ${stderr}`);
  return served;
}

/** Runs a shell command as `user` (default root); returns status and output. */
export function sh(script: string, user = 'root'): { status: number; stdout: string; stderr: string } {
  const args = user === 'root' ? ['-c', script] : ['-c', `su -s /bin/sh ${user} -c ${JSON.stringify(script)}`];
  try {
    const stdout = execFileSync('/bin/sh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

export const read = (path: string): string => readFileSync(path, 'utf8');

/** Waits until `text()` matches `pattern` (output of another process arrives when it arrives). */
export async function eventually(text: () => string, pattern: RegExp, ms = 2000): Promise<string> {
  const end = Date.now() + ms;
  while (!pattern.test(text()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return text();
}

/** The negative errno a backend call failed with, or 0 when it succeeded. */
export async function errnoOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    return (err as { errno: number }).errno;
  }
  return 0;
}

/** The errno code (ENOENT, EROFS, …) a synchronous call throws, or undefined when it succeeds. */
export const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
  return undefined;
};
