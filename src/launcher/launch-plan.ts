// The plan the native launcher carries out: what to run, in which namespaces and root, as whom.
import { fileURLToPath } from 'node:url';

/** The JSON the launcher reads from $FUSEJAIL_PLAN (native-bindings/launcher/plan.c). */
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
  /** A pids cgroup directory the payload joins before anything else (its process limit), or null. */
  cgroup: string | null;
  proc: boolean;
  dev: boolean;
  jail: boolean;
  user: { uid: number; gid: number; groups: readonly number[] };
}

export const launcherProgram = fileURLToPath(new URL('../../build/native/launcher', import.meta.url));
