// The supervisor protocol: one JSON object per line each way, versioned, answered by id.

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
  /** Tear everything down, then exit. */
  | { v: 1; id: number; op: 'shutdown' };

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
}

export type Response = { v: 1; id: number; ok: true; result: unknown } | { v: 1; id: number; ok: false; error: ErrorReply };

/** A request line longer than this is refused without being parsed. */
export const MAX_LINE_BYTES = 1 << 20;
