// Test helper: the OCI runtimes under test, and their real clients (podman, containerd's ctr) in private temp dirs.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fusejail, tempDir } from './fuse.js';
import { busyboxRootfs } from './oci-bundle.js';

export interface Runtime {
  /** As podman and the docs name it (podman keys its per-runtime features by this basename). */
  name: string;
  path: string;
  /** Why it cannot be tested here, or false. */
  skip: string | false;
}

/** Whether bin/fusejail speaks the OCI runtime command line yet (it does once `features` answers). */
function fusejailRuntime(): string | false {
  if (!existsSync(fusejail)) return `not built: ${fusejail} is missing (run make build)`;
  try {
    execFileSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', fusejail, 'features'], { stdio: 'ignore', timeout: 10_000 });
    return false;
  } catch {
    return 'needs the OCI runtime (native-bindings/oci): bin/fusejail features fails';
  }
}

const program = (name: string, path: string): Runtime => ({ name, path, skip: existsSync(path) ? false : `${path} is not installed (make test-deps)` });

/**
 * NOTE: the one place that chooses the runtimes the client tests run under: runc proves the
 * harness (the same assertions hold for the reference runtime), fusejail is the one under test.
 * FUSEJAIL_OCI_RUNTIME=runc (or fusejail) runs only that one.
 */
export function runtimes(): Runtime[] {
  const all = [program('runc', '/usr/sbin/runc'), { name: 'fusejail', path: fusejail, skip: fusejailRuntime() }];
  const only = process.env.FUSEJAIL_OCI_RUNTIME;
  return only ? all.filter((r) => r.name === only) : all;
}

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * The environment of a client: a private fusejail state directory (the runtime starts its
 * supervisor there), and no NODE_OPTIONS (tap's loaders would load into every fusejail started).
 */
function clientEnv(state?: string): NodeJS.ProcessEnv {
  const env = { ...process.env, ...(state ? { FUSEJAIL_STATE_DIR: state } : {}) };
  delete env.NODE_OPTIONS;
  return env;
}

/** A private fusejail state directory under `dir`; its supervisor (if the runtime started one) stopped by `stop`. */
function fusejailState(dir: string): { path: string; stop(): Promise<void> } {
  const path = join(dir, 'fusejail-state');
  mkdirSync(path, { mode: 0o700 });
  return {
    path,
    async stop() {
      if (!existsSync(join(path, 'supervisor.pid'))) return;
      await exec(fusejail, ['daemon', '--stop', '--force'], { env: clientEnv(path) });
    },
  };
}

/** Runs a program to its end (never through a shell); `input` on its stdin. */
export function exec(file: string, args: string[], options: { input?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: options.timeout ?? 60_000, maxBuffer: 16 << 20, env: options.env ?? clientEnv() }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(options.input ?? '');
  });
}

/** Unmounts whatever is still mounted under `dir` (deepest first): a client that failed half-way leaves nothing behind. */
function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((p) => p.startsWith(`${dir}/`));
  for (const point of points.reverse()) {
    try {
      execFileSync('umount', ['-l', point], { stdio: 'ignore' });
    } catch {}
  }
}

/** The image every client test runs: busybox alone, imported into podman from a tarball built here. */
export const IMAGE = 'localhost/fusejail-busybox:latest';

export interface Podman {
  dir: string;
  /** Its environment (FUSEJAIL_STATE_DIR: the fusejail runtime's private supervisor). */
  env: NodeJS.ProcessEnv;
  /** podman with this test's private storage, run root and temp dir (and cgroupfs, file events: there is no systemd). */
  args: string[];
  run(args: string[], options?: { input?: string; timeout?: number }): Promise<Result>;
}

/** A podman whose storage lives in a temp dir, with IMAGE imported; everything removed at teardown. */
export async function podman(t: Teardown): Promise<Podman> {
  const dir = tempDir('podman');
  chmodSync(dir, 0o755);
  // NOTE: vfs storage: no overlay mount per container, so nothing is left mounted if a test dies.
  const args = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  const state = fusejailState(dir);
  // NOTE: podman gives conmon, and so the runtime's `create`, only the environment its
  // containers.conf names (conmon_env_vars), and runs start, kill and delete with almost none:
  // FUSEJAIL_STATE_DIR reaches `create` this way only. This file is read instead of
  // /etc/containers/containers.conf, so it also lowers the rlimits root cannot raise here.
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nconmon_env_vars = ["FUSEJAIL_STATE_DIR=${state.path}"]\n`);
  const env = { ...clientEnv(state.path), CONTAINERS_CONF: conf };
  const run = (more: string[], options?: { input?: string; timeout?: number }) => exec('podman', [...args, ...more], { ...options, env });
  t.teardown(async () => {
    await run(['rm', '--all', '--force', '--time', '0']);
    await state.stop();
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  const rootfs = busyboxRootfs(join(dir, 'rootfs'));
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  const imported = await run(['import', tar, IMAGE]);
  if (imported.status !== 0) throw new Error(`podman import failed: ${imported.stderr}`);
  return { dir, env, args, run };
}

export interface Containerd {
  dir: string;
  /** `ctr run` options that make the shim run `runtime`, with its state under this test's dir. */
  runtimeArgs(runtime: Runtime): string[];
  /** ctr against this test's own containerd. */
  ctr(args: string[], options?: { input?: string; timeout?: number }): Promise<Result>;
}

/**
 * A containerd of this test's own (root, state, socket in a temp dir; the CRI plugin off), with
 * IMAGE imported from an OCI archive that `podman save` made; stopped and removed at teardown.
 */
export async function containerd(t: Teardown, from: Podman): Promise<Containerd> {
  const dir = tempDir('containerd');
  const socket = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const state = fusejailState(dir);
  const env = clientEnv(state.path);
  // NOTE: the shims containerd starts, and the runtime they run, inherit its environment.
  const daemon: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  daemon.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8192)));
  const exited = new Promise<void>((r) => daemon.on('exit', () => r()));
  const ctr = (args: string[], options?: { input?: string; timeout?: number }) => exec('ctr', ['--address', socket, ...args], { ...options, env });
  t.teardown(async () => {
    // NOTE: tasks first (their shims hold the snapshot mounts), then containers, then containerd.
    for (const id of (await ctr(['tasks', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]).then(() => ctr(['tasks', 'delete', '-f', id]));
    for (const id of (await ctr(['containers', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['containers', 'delete', id]);
    daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    daemon.kill('SIGKILL');
    await state.stop();
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const end = Date.now() + 20_000; !existsSync(socket); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end || daemon.exitCode !== null) throw new Error(`containerd did not start: ${log}`);
  }
  const archive = join(dir, 'image.tar');
  const saved = await from.run(['save', '--format', 'oci-archive', '-o', archive, IMAGE]);
  if (saved.status !== 0) throw new Error(`podman save failed: ${saved.stderr}`);
  const imported = await ctr(['images', 'import', '--base-name', IMAGE.replace(/:latest$/, ''), '--snapshotter', 'native', archive]);
  if (imported.status !== 0) throw new Error(`ctr images import failed: ${imported.stderr}`);
  return { dir, ctr, runtimeArgs: (runtime) => ['--runc-binary', runtime.path, '--runc-root', join(dir, 'runtime-root')] };
}
