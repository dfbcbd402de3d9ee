// Test helper: drive bin/fusejail's OCI verbs as podman and containerd do: from a subreaper that
// waits for the container's init, with a private --root, and a stand-in supervisor when asked.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { asUser, fusejail, tempDir } from './fuse.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (asynchronously: a stand-in supervisor in this process must answer). */
export function runProgram(program: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Result> {
  const [cmd, argv] = asUser(program, args);
  const child = spawn(cmd, argv, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (input !== undefined) {
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
  }
  // NOTE: a detached process (exec --detach) keeps the pipes it inherited: the exit counts, and
  // output still in flight gets a moment.
  return new Promise((resolve) =>
    child.on('exit', (status, signal) => {
      const done = () => resolve({ status, signal, stdout, stderr });
      const timer = setTimeout(done, 500);
      child.on('close', () => {
        clearTimeout(timer);
        done();
      });
    }),
  );
}

/** A request the stand-in supervisor received. */
export interface OciRequest {
  op: string;
  oci: { root: string; id: string; rootfs?: string; readonly?: boolean; jail?: boolean };
  pid?: number;
}

/**
 * Answers the three oci-* requests as the supervisor does, serving root.path itself (no FUSE) so
 * the lifecycle is tested alone; `requests` records what came.
 */
export async function standInSupervisor(t: Teardown, stateDir: string): Promise<{ requests: OciRequest[] }> {
  const requests: OciRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const request = JSON.parse(buffer.slice(0, nl)) as OciRequest & { id: number };
        buffer = buffer.slice(nl + 1);
        requests.push(request);
        const result = request.op === 'oci-create' ? { name: request.oci.id, root: request.oci.rootfs } : {};
        socket.write(`${JSON.stringify({ v: 1, id: request.id, ok: true, result })}\n`);
      }
    });
  });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  await new Promise<void>((resolve) => server.listen(join(stateDir, 'supervisor.sock'), resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { requests };
}

export interface Runtime {
  root: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  /** `fusejail --root ROOT ...args`. */
  oci(args: string[], input?: string): Promise<Result>;
  /** `fusejail ...args` with no global flag (the front-end's own routing). */
  bare(args: string[]): Promise<Result>;
  state(id: string): Promise<Record<string, unknown>>;
}

/** A private OCI root and supervisor state dir; every container left is deleted with --force. */
export function runtime(t: Teardown): Runtime {
  const dir = tempDir('oci');
  const root = join(dir, 'root');
  const stateDir = join(dir, 'state');
  const env = { ...process.env, FUSEJAIL_STATE_DIR: stateDir };
  const rt: Runtime = {
    root,
    stateDir,
    env,
    oci: (args, input) => runProgram(fusejail, ['--root', root, ...args], env, input),
    bare: (args) => runProgram(fusejail, args, env),
    async state(id) {
      const r = await rt.oci(['state', id]);
      if (r.status !== 0) throw new Error(`state ${id} failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    },
  };
  t.teardown(async () => {
    let ids: string[] = [];
    try {
      ids = (JSON.parse((await rt.oci(['list', '--format', 'json'])).stdout) as { id: string }[]).map((s) => s.id);
    } catch {}
    for (const id of ids) await rt.oci(['delete', '--force', id]);
    // NOTE: a real supervisor (started by the Node CLI or by create) leaves a pid file; the stand-in none.
    if (existsSync(join(stateDir, 'supervisor.pid'))) await rt.bare(['daemon', '--stop']);
    rmSync(dir, { recursive: true, force: true });
  });
  return rt;
}

// NOTE: conmon and containerd's shim are subreapers that learn the exit status by waitpid; this
// stands in for them: it runs `create`, reports on fd 3, then waits for the init named in the
// pid file. The container's stdio is this process's stdio.
const REAPER = `
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
report = os.fdopen(3, 'w', buffering=1)
args, pid_file = sys.argv[1:-1], sys.argv[-1]
r = subprocess.run(args)
report.write('created %d\\n' % r.returncode)
if r.returncode != 0: sys.exit(0)
pid = int(open(pid_file).read())
_, status = os.waitpid(pid, 0)
report.write('exited %d\\n' % os.waitstatus_to_exitcode(status))
`;

export interface Reaped {
  /** The subreaper's pid: the init's parent once create has exited. */
  pid: number;
  /** Resolves with create's exit status. */
  created: Promise<number>;
  /** Resolves with the init's exit status (negative: killed by that signal) and the container's output. */
  exited: Promise<{ status: number; stdout: string; stderr: string }>;
}

/** `create` run from a subreaper, which then waits for the container's init. */
export function createFromSubreaper(rt: Runtime, createArgs: string[], pidFile: string): Reaped {
  const child = spawn('python3', ['-c', REAPER, '/usr/bin/env', '-u', 'NODE_OPTIONS', fusejail, '--root', rt.root, ...createArgs, pidFile], {
    env: rt.env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let reports = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const report = child.stdio[3] as NodeJS.ReadableStream;
  // NOTE: the container may outlive the subreaper and hold its pipes: its exit is what counts.
  const ended = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const closed = new Promise<void>((resolve) => {
    child.on('close', () => resolve());
    void ended.then(() => setTimeout(resolve, 2000));
  });
  const waiting: (() => void)[] = [];
  report.on('data', (d: Buffer) => {
    reports += d.toString();
    for (const check of waiting) check();
  });
  const line = (word: string) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const m = new RegExp(`^${word} (-?\\d+)$`, 'm').exec(reports);
        if (m) resolve(Number(m[1]));
      };
      waiting.push(check);
      void ended.then(() => {
        check();
        reject(new Error(`the subreaper ended without "${word}": ${stderr}`));
      });
    });
  const created = line('created');
  const exited = line('exited').then(async (status) => {
    await closed;
    return { status, stdout, stderr };
  });
  created.catch(() => {});
  exited.catch(() => {});
  return { pid: child.pid!, created, exited };
}

export const readPidFile = (path: string): string => readFileSync(path, 'utf8');
