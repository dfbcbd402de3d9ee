// The plan the native launcher carries out: what to run, in which namespaces and root, as whom.
import { fileURLToPath } from 'node:url';
import type { LayoutOp } from '../protocol/config.js';
import type { IdMap } from '../context-server/table.js';

/** A kernel filesystem the launcher mounts over the root's mount point for it. */
export interface KernelMount {
  fs: 'proc' | 'sysfs' | 'devpts';
  target: string;
  read_only: boolean;
  /** proc without runc's masks. Test plans only (the supervisor never sets it): they show what a user namespace alone protects. */
  unmasked?: boolean;
}

// The same map a root's context server is given (its uid_map and gid_map are written from it).
export type { IdMap };

const KERNEL_FS = { proc: 'proc', sys: 'sysfs', devpts: 'devpts' } as const;

/** The layout's ProcFS, SysFS and DevPTS mounts, in layout order. */
export function kernelMounts(layout: readonly LayoutOp[]): KernelMount[] {
  return layout.flatMap((op) =>
    op.op === 'mount' && op.kind !== 'bind' && op.kind !== 'ramfs' ? [{ fs: KERNEL_FS[op.kind], target: op.target, read_only: op.readOnly }] : [],
  );
}

/** The JSON the launcher reads from its sync socket (native-bindings/launcher/plan.c). */
export interface LaunchPlan {
  argv: readonly string[];
  /** KEY=VALUE strings: the payload's whole environment. */
  env: readonly string[];
  /** Absolute, inside the container; the launch fails if it resolves anywhere else. */
  cwd: string;
  /** The host directory serving the container's root (a FUSE mount). */
  root: string;
  /** /proc/<init>/ns/pid of a scoped process list to join, or null for the host's. */
  pidns: string | null;
  /** A pinned UTS namespace to join, or null. */
  utsns: string | null;
  /** With utsns null: a new UTS namespace with this hostname, or null to keep the host's. */
  hostname: string | null;
  /** A network namespace to join (a process list's /proc/<init>/ns/net, or another container's). */
  netns?: string | null;
  /** With netns null: a new network namespace with only lo, up (true), or the host's (false). */
  new_net?: boolean;
  /** An IPC namespace to join (a process list's /proc/<init>/ns/ipc, or the container's first process's). */
  ipcns?: string | null;
  /** With ipcns null: a new IPC namespace (true), or the host's (false). */
  new_ipc?: boolean;
  /** The container's cgroup directories (one per v1 hierarchy, or v2's one) the payload joins before anything else. */
  cgroups: readonly string[];
  mounts: readonly KernelMount[];
  /** A minimal /dev (a tmpfs with harmless devices and a new devpts), where the root has /dev. */
  dev: boolean;
  jail: boolean;
  /** The user's ids are inside the namespace (0 to size-1). */
  user: { uid: number; gid: number; groups: readonly number[] };
  /** A user namespace with this map, entered after the root and the hostname are set up; absent or null: none. */
  userns?: IdMap | null;
  /** With userns: join this one (/proc/<pid>/ns/user of the container's first process) instead of making one. */
  userns_path?: string | null;
}

export const launcherProgram = fileURLToPath(new URL('../../build/native/launcher', import.meta.url));
