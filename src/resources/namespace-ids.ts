// The identities of a process's namespaces ("net:[4026532001]"), as the kernel names them in /proc.
import { readlinkSync } from 'node:fs';

export const NAMESPACE_TYPES = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'user'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** One nsfs file's identity, or undefined when it is gone (its process exited). */
export function namespaceId(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Every namespace of host process `pid` (those readable now). */
export function namespaceIds(pid: number): Partial<Record<NamespaceType, string>> {
  const out: Partial<Record<NamespaceType, string>> = {};
  for (const type of NAMESPACE_TYPES) {
    const id = namespaceId(`/proc/${pid}/ns/${type}`);
    if (id !== undefined) out[type] = id;
  }
  return out;
}
