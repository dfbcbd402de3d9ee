// Test helper: a container root with the host's programs, and a way to run plans in it.
import { join } from 'node:path';
import { Launch, type Started, type Stdio } from '../../src/launcher/launch.js';
import type { LaunchPlan } from '../../src/launcher/launch-plan.js';
import { repo } from './fuse.js';

/** Host /usr and /etc read-only (merged-usr links), /proc and /dev mount points, /tmp in memory, the probe at /t. */
export function baseLayout(extra: object[] = []): object[] {
  return [
    { type: 'mount', source: '/usr', target: '/usr', fs_type: 'bind', read_only: true },
    { type: 'symlink', path: '/bin', target: 'usr/bin' },
    { type: 'symlink', path: '/lib', target: 'usr/lib' },
    { type: 'symlink', path: '/lib64', target: 'usr/lib64' },
    { type: 'symlink', path: '/sbin', target: 'usr/sbin' },
    { type: 'mount', source: '/etc', target: '/etc', fs_type: 'bind', read_only: true },
    { type: 'directory', target: '/dev', mode: '0755' },
    { type: 'mount', target: '/proc', fs_type: 'ProcFS' },
    { type: 'mount', target: '/tmp', fs_type: 'RAMFS' },
    { type: 'mount', source: join(repo, 'build/test'), target: '/t', fs_type: 'bind', read_only: true },
    ...extra,
  ];
}

export function plan(root: string, argv: string[], over: Partial<LaunchPlan> = {}): LaunchPlan {
  return {
    argv,
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'TERM=xterm'],
    cwd: '/',
    root,
    pidns: null,
    utsns: null,
    hostname: null,
    cgroups: [],
    mounts: [{ fs: 'proc', target: '/proc', read_only: false }],
    dev: true,
    jail: true,
    user: { uid: 0, gid: 0, groups: [] },
    ...over,
  };
}

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
  started: Started | Error;
}

/** Runs a plan to the end and collects what it printed. */
export async function run(p: LaunchPlan, stdio: Stdio = { kind: 'pipes' }, input?: string): Promise<Ran> {
  const launch = new Launch(p, stdio);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  launch.onData((o) => (o.stream === 'stdout' ? out : err).push(o.data));
  const exited = new Promise<number>((resolve) => launch.onExit(resolve));
  const started = await launch.started.catch((e: Error) => e);
  if (input !== undefined) {
    launch.write(input);
    launch.end();
  } else if (stdio.kind === 'pipes') launch.end();
  const status = await exited;
  return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), started };
}
