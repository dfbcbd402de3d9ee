// A validated layout turned into the resolved table a context server executes, entry by entry.
import { lstatSync, realpathSync } from 'node:fs';
import { ConfigInvalid } from '../errors.js';
import type { LayoutOp, MountOp } from '../protocol/config.js';
import type { ServedMount, TableOp } from '../context-server/table.js';

/**
 * NOTE: every RAMFS (and the private upper layer of every copy) is a tmpfs instance of its
 * server with this size unless its layout entry gives one: a bound the kernel enforces (ENOSPC) and `df` reports, and memory the
 * kernel charges to the cgroup of whoever writes it.
 */
export const RAMFS_SIZE = 1024 * 1024 * 1024;

/** The kernel filesystem each layout `mount` kind stands for, mounted by the launcher over its mount point. */
const KERNEL_FS = { proc: 'proc', sys: 'sysfs', devpts: 'devpts' } as const;

/** One mount, as a layout entry (or `mount add`) makes it. */
export function servedMount(op: MountOp): ServedMount {
  switch (op.op) {
    case 'copy':
      return { type: 'copy', target: op.target, readOnly: false, source: op.source, size: RAMFS_SIZE };
    case 'symlink':
      return { type: 'symlink', target: op.path, readOnly: true, link: op.target };
    case 'mount':
      if (op.kind === 'bind') return { type: 'bind', target: op.target, readOnly: op.readOnly, source: op.source };
      // NOTE: a RAMFS mounted on a layout path is a shared scratch space (/tmp): sticky and writable by all.
      if (op.kind === 'ramfs') return { type: 'ramfs', target: op.target, readOnly: op.readOnly, size: op.size ?? RAMFS_SIZE, mode: 0o1777 };
      return { type: 'mountpoint', target: op.target, readOnly: true, fs: KERNEL_FS[op.kind] };
  }
}

/** The root a layout starts from: its `root_mount`, or, as in SerenityOS, an empty RAMFS. */
function rootMount(first: LayoutOp | undefined): ServedMount {
  if (first?.op === 'root' && first.kind === 'bind') return { type: 'bind', target: '/', readOnly: first.readOnly, source: first.source };
  return { type: 'ramfs', target: '/', readOnly: false, size: (first?.op === 'root' && first.kind === 'ramfs' && first.size) || RAMFS_SIZE, mode: 0o755 };
}

/**
 * The layout in order, as the server builds it, with its host sources resolved (`realSource`);
 * `root_mount` entries after the first change nothing.
 */
export function tableOf(given: readonly LayoutOp[]): TableOp[] {
  const layout = withRealSources(given);
  const ops: TableOp[] = [{ op: 'mount', mount: rootMount(layout[0]) }];
  for (const op of layout) {
    if (op.op === 'directory') ops.push({ op: 'mkdir', path: op.target, mode: op.mode });
    else if (op.op === 'hide') ops.push({ op: 'hide', path: op.path });
    else if (op.op !== 'root') ops.push({ op: 'mount', mount: servedMount(op) });
  }
  return ops;
}

/**
 * A bind or copy source as the server will open it: its real path, resolved once, here, where the
 * user named it (the server then opens it without following any symlink). NOTE: a symlink on the
 * way that lies inside a read-write bind source of the same container may have been planted by
 * that container (a link to "/" in place of a directory), so it is refused, never followed.
 */
export function realSource(source: string, writable: readonly string[]): string {
  let real = '/';
  for (const name of source.split('/').filter(Boolean)) {
    const path = real === '/' ? `/${name}` : `${real}/${name}`;
    let linked = false;
    try {
      linked = lstatSync(path).isSymbolicLink();
    } catch {
      throw new ConfigInvalid(`source ${source}: ${path} does not exist on the host`);
    }
    if (linked) {
      const planted = writable.find((w) => path === w || path.startsWith(`${w === '/' ? '' : w}/`));
      if (planted) throw new ConfigInvalid(`source ${source}: ${path} is a symbolic link inside the read-write bind source ${planted}, which the container can change; give the real path`);
    }
    real = linked ? realpathSync(path) : path;
  }
  return real;
}

/** The layout with every host source resolved by `realSource`. */
function withRealSources(layout: readonly LayoutOp[]): LayoutOp[] {
  const writable = layout.flatMap((op) => ((op.op === 'mount' || op.op === 'root') && op.kind === 'bind' && !op.readOnly ? [op.source] : []));
  return layout.map((op) => ('source' in op ? { ...op, source: realSource(op.source, writable) } : op));
}
