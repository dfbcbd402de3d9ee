// The supervisor protocol: one JSON object per line each way, versioned, answered by id.
import type { TraceStep } from '../trace.js';

export const PROTOCOL_VERSION = 1;

/** SerenityOS's resource types and their numbers. */
export const RESOURCE_TYPES = { 'process-list': 1, 'vfs-context': 2, 'hostname-context': 3 } as const;
export type ResourceType = keyof typeof RESOURCE_TYPES;
export const isResourceType = (value: unknown): value is ResourceType => typeof value === 'string' && value in RESOURCE_TYPES;

export type Request =
  /** unshare_create(type): a new resource, not attached to anyone; answers its index. */
  | { v: 1; id: number; op: 'create'; type: ResourceType }
  /** Every live resource. */
  | { v: 1; id: number; op: 'resources' }
  /**
   * Tear everything down, then exit. Refused (EBUSY) while OCI containers are registered (their
   * roots would vanish under running processes), unless `force`.
   */
  | { v: 1; id: number; op: 'shutdown'; force?: boolean }
  /**
   * A container from `config` (SerenityOS runc format, already validated by the caller and again
   * here), its process described by the rest. The connection then carries its stream.
   */
  | {
      v: 1;
      id: number;
      op: 'run';
      config: Record<string, unknown>;
      process: ProcessSpec;
      terminal: Terminal | null;
      name?: string;
      detach: boolean;
      /** unshare_attach: existing resources by index, used instead of new ones. */
      attach?: Partial<Record<ResourceType, number>>;
    }
  /** Another process in a container's resources; its stream comes back like a run's. */
  | { v: 1; id: number; op: 'exec'; container: string; process: ProcessSpec; terminal: Terminal | null }
  | { v: 1; id: number; op: 'ls' }
  | { v: 1; id: number; op: 'ps'; container: string }
  | { v: 1; id: number; op: 'kill'; container: string; signal: string }
  /** A container's mount table, in order. */
  | { v: 1; id: number; op: 'mounts'; container: string }
  /** A container's hostname context: its name, or (with `set`) a new one seen by all its processes. */
  | { v: 1; id: number; op: 'hostname'; container: string; set?: string }
  /** Edits a running container's mount table; seen at once inside it and under its root. */
  | { v: 1; id: number; op: 'mount-add'; container: string; mount: MountSpec }
  | { v: 1; id: number; op: 'mount-rm'; container: string; target: string }
  /** SerenityOS's copy_mount: the same live files, mounted at another place (or container). */
  | { v: 1; id: number; op: 'mount-copy'; from: { container: string; path: string }; to: { container: string; path: string } }
  /** Serve a container's root at another host directory too (until the container goes). */
  | { v: 1; id: number; op: 'expose'; container: string; dir: string }
  | { v: 1; id: number; op: 'events'; container: string }
  /** Memory, CPU time and processes of a container, against its limits. */
  | { v: 1; id: number; op: 'stats'; container: string }
  /** The host directory serving a container's root. */
  | { v: 1; id: number; op: 'root'; container: string }
  /** Ends what still runs (with force), releases the resources, forgets the container; answers its steps' times ({trace}). */
  | { v: 1; id: number; op: 'rm'; container: string; force: boolean }
  /** To a run's process, on the run's connection and id: bytes (base64), end of input, size, signal. */
  | { v: 1; id: number; op: 'input'; data: string }
  | { v: 1; id: number; op: 'eof' }
  | { v: 1; id: number; op: 'resize'; rows: number; cols: number }
  | { v: 1; id: number; op: 'signal'; signal: string }
  /**
   * The OCI runtime's `create` (native-bindings/oci/): a VFS root context whose root is one
   * write-through bind of `rootfs`; answers `{name, root}` (root: where it is served). EXISTS when
   * the key (root, id) is registered already.
   */
  | { v: 1; id: number; op: 'oci-create'; oci: OCICreate }
  /** The OCI container's init now exists (waiting at its start barrier): its host PID. */
  | { v: 1; id: number; op: 'oci-started'; oci: OCIKey; pid: number }
  /** The OCI runtime's `delete`: its root unmounted and every resource released. NOT_FOUND for an unknown key. */
  | { v: 1; id: number; op: 'oci-delete'; oci: OCIKey };

/** An OCI container is known by its runtime's state root (`--root`) and its id, as runc keys it. */
export interface OCIKey {
  root: string;
  id: string;
}

export interface OCICreate extends OCIKey {
  /** The bundle directory (absolute), for people reading `ls`. */
  bundle: string;
  /** The real host directory of config.json's `root.path` (absolute, canonical, a directory). */
  rootfs: string;
  readonly: boolean;
  /** The annotation run.fusejail.jail=true: the context server's jailed exec rule. */
  jail: boolean;
}

/** A mount named on the command line; `mount add` takes bind and ramfs, `run` all three. */
export type MountSpec =
  | { kind: 'bind'; source: string; target: string; readOnly: boolean }
  | { kind: 'ramfs'; target: string }
  | { kind: 'copy'; source: string; target: string };

/** What `fusejail events` lists: the container's processes and every launch its root saw. */
export type ContainerEvent =
  | { time: number; kind: 'start'; hostPid: number; containerPid: number; command: string }
  | { time: number; kind: 'exit'; hostPid: number; status: number }
  /** The OOM killer killed its process (`limit`: the memory limit, in bytes, when it had one). */
  | { time: number; kind: 'oom'; hostPid: number; limit?: number }
  /** An execve through the container's root (seen by its FUSE server), allowed or refused. */
  | { time: number; kind: 'launch' | 'refused'; path: string; hostPid: number; uid: number; reason?: string }
  /** An OCI container's init is gone; its exit status went to its OCI caller (conmon, the shim), which reaps it. */
  | { time: number; kind: 'ended'; hostPid: number }
  /** The server of the container's root died (host pid: the server's): nothing can run in it any more. */
  | { time: number; kind: 'root-lost'; hostPid: number; reason: string };

export interface ProcessSpec {
  argv: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; groups: number[] };
}

export interface Terminal {
  rows: number;
  cols: number;
}

/** What a run's connection receives until the exit, under the run request's id. */
export type StreamEvent =
  /** `trace`: the supervisor's steps from the request to the start (validation, resources, launch stages). */
  | { v: 1; id: number; event: 'started'; name: string; hostPid: number; containerPid: number; trace: TraceStep[] }
  | { v: 1; id: number; event: 'data'; stream: 'stdout' | 'stderr'; data: string }
  /** After the last byte of output, and after the container's resources were released. */
  /** `reason`: why it ended, when the payload could not say so itself ("NAME: killed: out of memory (limit 64 MiB)"). */
  | { v: 1; id: number; event: 'exit'; status: number; reason?: string; /** The release's steps, when this exit released the container. */ trace?: TraceStep[] };

/** `stats`: a container's use of memory (bytes), CPU time (microseconds) and processes, against its limits. */
export interface ContainerStats {
  name: string;
  memory?: number;
  cpuMicros?: number;
  processes?: number;
  oomKills?: number;
  limits: { maxProcesses?: number; memory?: number; cpus?: number };
  cgroup?: { version: 1 | 2; controllers: string[] };
}

export interface ContainerInfo {
  name: string;
  /** `fusejail run` made it, or an OCI runtime's `create` (then `oci` names its key). */
  kind: 'fusejail' | 'oci';
  oci?: OCIKey & { bundle: string; pid?: number };
  /** `created`: an OCI container whose init waits at its start barrier. */
  status: 'created' | 'running' | 'exited';
  /** The exit status of its first process, once it exited. */
  exitStatus?: number;
  command: string[];
  jail: boolean;
  /** The host directory serving its root. */
  root: string;
  /** Why it cannot run anything any more (its root's server died), if so. */
  broken?: string;
  resources: { 'vfs-context': number; 'process-list'?: number; 'hostname-context'?: number };
  /** "none", "host", "private" or "container:NAME" (config `network`). */
  network: string;
  /** With a private network: the published ports ("8080:80/tcp"). */
  publish?: string[];
  /** Its first process's namespaces, while it runs ("net:[4026532001]"; the host's show as the host's ids). */
  namespaces: Partial<Record<'pid' | 'net' | 'ipc' | 'uts' | 'mnt' | 'cgroup' | 'user', string>>;
  /** With a user namespace: the host ids its ids 0 to size-1 are (uid_map "0 uid size", gid_map "0 gid size"). */
  userns?: { uid: number; gid: number; size: number };
  /** What its cgroup enforces (absent: no limit). */
  limits: { maxProcesses?: number; memory?: number; cpus?: number };
}

export interface MountInfo {
  target: string;
  /** ramfs, bind, copy, symlink, or the kernel filesystem the launcher mounts there (proc, sys, devpts). */
  type: string;
  /** The host source (bind, copy) or the link's target (symlink). */
  source?: string;
  readOnly: boolean;
}

export interface ProcessInfo {
  /** The namespaces of the process ("net:[4026532001]"), and the limits of its container. */
  namespaces?: Partial<Record<'pid' | 'net' | 'ipc' | 'uts' | 'mnt' | 'cgroup' | 'user', string>>;
  limits?: { maxProcesses?: number; memory?: number; cpus?: number };
  /** When it is in its container's user namespace: that namespace's map (as ContainerInfo's). */
  userns?: { uid: number; gid: number; size: number };
  hostPid: number;
  /** As seen inside the container's process list (the host's PID without one). */
  containerPid: number;
  command: string;
}

export interface ResourceInfo {
  type: ResourceType;
  /** SerenityOS's number for the type. */
  typeNumber: number;
  index: number;
  /** Processes attached to it. */
  users: number;
  /** Where it lives on the host: the FUSE root, the pinned namespace, the init's PID. */
  detail: Record<string, string | number>;
}

export interface ErrorReply {
  /** Stable: EPERM (jailed caller), EINVAL (bad request), ENOENT, EBUSY, ENODEV, INTERNAL, … */
  code: string;
  message: string;
  /** For a run that could not start its command: 125, 126 or 127 (DESIGN §4). */
  status?: number;
}

export type Response = { v: 1; id: number; ok: true; result: unknown } | { v: 1; id: number; ok: false; error: ErrorReply };

// NOTE: a record over the union, so the compiler insists on every operation and no other.
const OPERATIONS: Record<Request['op'], true> = {
  create: true, resources: true, shutdown: true, run: true, exec: true, ls: true, ps: true, kill: true, mounts: true,
  hostname: true, 'mount-add': true, 'mount-rm': true, 'mount-copy': true, expose: true, events: true, stats: true, root: true,
  rm: true, input: true, eof: true, resize: true, signal: true, 'oci-create': true, 'oci-started': true, 'oci-delete': true,
};

/** Whether a request names an operation of this protocol. */
export const isOperation = (value: unknown): value is Request['op'] => typeof value === 'string' && Object.hasOwn(OPERATIONS, value);

/** A request line longer than this is refused without being parsed. */
export const MAX_LINE_BYTES = 1 << 20;
