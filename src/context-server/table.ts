// The resolved table a context server executes (native-bindings/context-server/), and its channel.
//
// NOTE: the supervisor owns the model (src/resources/vfs-root-context.ts) and validates a layout
// once; the C server receives only this resolved data, never a config to parse again.

/** Version of the JSON-lines channel on the server's control fd; both ends refuse another. */
export const CONTROL_VERSION = 1;

/** One mount of the table. Targets are absolute canonical paths; sources are real host paths. */
export type ServedMount =
  /** A new, empty, private store (a tmpfs instance of the server's), `size` bytes at most. */
  | { readonly type: 'ramfs'; readonly target: string; readonly readOnly: boolean; readonly size: number; readonly mode: number }
  /** A host directory or file, reached beneath it without following any symlink. */
  | { readonly type: 'bind'; readonly target: string; readonly readOnly: boolean; readonly source: string }
  /** A host directory or file shown as a private copy: read from the host until first written. */
  | { readonly type: 'copy'; readonly target: string; readonly readOnly: false; readonly source: string; readonly size: number }
  /** A mount that is one symbolic link. */
  | { readonly type: 'symlink'; readonly target: string; readonly readOnly: true; readonly link: string }
  /** An empty read-only directory a kernel filesystem (proc, sysfs, devpts) is mounted over in a launch. */
  | { readonly type: 'mountpoint'; readonly target: string; readonly readOnly: true; readonly fs: string }
  /** SerenityOS's copy_mount inside one context: the live files at `from` (resolved by the server, beneath its root). */
  | { readonly type: 'share'; readonly target: string; readonly readOnly: boolean; readonly from: string }
  /**
   * copy_mount across contexts: the live files another server located and holds open, reached
   * through its descriptor (`/proc/PID/fd/N`), never by a host path.
   */
  | { readonly type: 'handle'; readonly target: string; readonly readOnly: boolean; readonly handle: string; readonly source: string };

/** One step of building a root, in layout order. */
export type TableOp =
  | { readonly op: 'mount'; readonly mount: ServedMount }
  /** mkdir in whatever mount holds the path at that point (EROFS in a read-only one). */
  | { readonly op: 'mkdir'; readonly path: string; readonly mode: number }
  /** The path (and all below it) does not exist in this context, whatever its backend holds. */
  | { readonly op: 'hide'; readonly path: string };

/** What `execve` may load in this context: the FUSE layer of the jail. */
export interface ExecRule {
  readonly jailed: boolean;
  /** Jailed only: the absolute paths that may be executed; null allows any (set-id still refused). */
  readonly allow: readonly string[] | null;
}

/**
 * A user namespace's id mapping, for a root whose containers run in one: container uids 0..size-1
 * are host uids uid..uid+size-1 (gids likewise). Replies show host ids below `size` shifted into
 * that range (host root's files show as root inside), and requests from callers in the range on
 * host-backed mounts are performed as the caller, so access follows the real host ownership.
 * The server refuses (EINVAL, naming the field) anything but integers with 1 <= size <= uid, gid
 * and uid + size, gid + size <= 2^32 - 1.
 */
export interface IdMap {
  /** The host uid of container uid 0. */
  readonly uid: number;
  /** The host gid of container gid 0. */
  readonly gid: number;
  /** How many ids are mapped (65536 for container ids 0..65535). */
  readonly size: number;
}

export interface ServeRequest {
  readonly v: typeof CONTROL_VERSION;
  readonly op: 'serve';
  /** A real, empty host directory. */
  readonly mountpoint: string;
  /** Marks our mounts (`fsname`, type `fuse.fusejail`) so stale ones can be found and cleared. */
  readonly fsname: string;
  readonly table: readonly TableOp[];
  readonly exec: ExecRule;
  /** Absent: the containers of this root share the host's ids (no user namespace). */
  readonly idmap?: IdMap;
}

/** Requests after `serve`, each answered once with its id. */
export type ControlRequest =
  | { readonly id: number; readonly op: 'mount-add'; readonly mount: ServedMount }
  | { readonly id: number; readonly op: 'mount-rm'; readonly target: string }
  /** Resolve `path` beneath this root and hold it open: another server mounts it by `handle`. */
  | { readonly id: number; readonly op: 'locate'; readonly path: string }
  /** Drop a handle `locate` gave once the mount using it is gone. */
  | { readonly id: number; readonly op: 'unlocate'; readonly handle: string }
  /** Serve the same root at another (real, empty) host directory too. */
  | { readonly id: number; readonly op: 'expose'; readonly dir: string };

export interface Located {
  readonly handle: string;
  readonly kind: 'directory' | 'file';
}

export interface LaunchEvent {
  readonly time: number;
  readonly path: string;
  readonly pid: number;
  readonly uid: number;
  readonly allowed: boolean;
  readonly reason?: 'setuid' | 'not-allowed';
}

/** Every line the server writes on its control fd. */
export type ControlMessage =
  | { readonly event: 'ready'; readonly v: typeof CONTROL_VERSION; readonly pid: number }
  /** The server could not start serving; it exits next. */
  | { readonly event: 'failed'; readonly error: { readonly code: string; readonly message: string } }
  | { readonly event: 'launch'; readonly launch: LaunchEvent }
  /** A rate-limited diagnostic (at most a few a second; the rest are counted in `dropped`). */
  | { readonly event: 'log'; readonly message: string; readonly dropped: number }
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly code: string; readonly message: string } };
