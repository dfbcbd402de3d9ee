// The channel between the supervisor and the process serving one VFSRootContext (Node's IPC, JSON):
// edits to the live mount table, more host directories for the same root, and launches seen.
import type { MountOp } from '../protocol/config.js';
import type { MountInfo } from '../protocol/messages.js';
import type { LaunchEvent } from '../resources/vfs-root-context.js';

export type ControlRequest =
  | { id: number; op: 'mounts' }
  | { id: number; op: 'mount-add'; mount: MountOp }
  /** copy_mount inside one context: the live backend holding `from`, mounted again at `target`. */
  | { id: number; op: 'mount-share'; from: string; target: string }
  | { id: number; op: 'mount-rm'; target: string }
  /** Which mount holds `path`: what another context needs to mount the same live files. */
  | { id: number; op: 'locate'; path: string }
  /** Serve the same root at another host directory too. */
  | { id: number; op: 'expose'; dir: string };

export interface Located {
  mount: MountInfo;
  /** The path inside that mount. */
  inner: string;
}

export type ControlMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: string; message: string } }
  | { event: 'launch'; launch: LaunchEvent }
  /** The server could not start serving; it exits next. */
  | { event: 'failed'; error: { code: string; message: string } };
