// Builds a VFSRootContext from a validated layout, entry by entry, in layout order.
import { ConfigInvalid, isFusejailError } from '../errors.js';
import { Bind } from '../fuse/bind.js';
import { Copy } from '../fuse/copy.js';
import { Ramfs } from '../fuse/ramfs.js';
import { Symlink } from '../fuse/symlink.js';
import type { LayoutOp, MountOp } from '../protocol/config.js';
import { ExecPolicy } from './exec-policy.js';
import type { Mount } from './mount-table.js';
import { type Backend, VFSRootContext } from './vfs-root-context.js';

const ROOT = { uid: 0, gid: 0, pid: 0 };

/**
 * Kernel filesystems (proc, sys, devpts) are mounted by the launcher inside the container; the
 * FUSE root only provides an empty, read-only directory for them to cover.
 */
const mountPoint = (): Backend => new Ramfs({ sizeLimit: 0 });

async function mountFor(op: MountOp): Promise<Mount<Backend>> {
  switch (op.op) {
    case 'copy':
      return { backend: await Copy.open({ source: op.source }), readOnly: false, target: op.target, origin: { type: 'copy', source: op.source } };
    case 'symlink':
      return { backend: new Symlink(op.target), readOnly: true, target: op.path, origin: { type: 'symlink', source: op.target } };
    case 'mount':
      if (op.kind === 'bind') {
        return { backend: Bind.open({ source: op.source, readOnly: op.readOnly }), readOnly: op.readOnly, target: op.target, origin: { type: 'bind', source: op.source } };
      }
      if (op.kind === 'ramfs') return { backend: new Ramfs({ root: { uid: 0, gid: 0, mode: 0o1777 } }), readOnly: op.readOnly, target: op.target, origin: { type: 'ramfs' } };
      return { backend: mountPoint(), readOnly: true, target: op.target, origin: { type: op.kind } };
  }
}

/** One more mount, made as a layout entry would make it (also for a running context's `mount add`). */
export async function addMount(context: VFSRootContext, op: MountOp): Promise<void> {
  context.addMount(await mountFor(op));
}

export async function buildContext(id: number, layout: readonly LayoutOp[], policy: ExecPolicy): Promise<VFSRootContext> {
  const first = layout[0];
  const root =
    first?.op === 'root' && first.kind === 'bind'
      ? { root: { target: '/', backend: Bind.open({ source: first.source, readOnly: first.readOnly }), readOnly: first.readOnly, origin: { type: 'bind', source: first.source } } }
      : {};
  const context = VFSRootContext.create(id, { ...root, policy });
  for (const op of layout) {
    try {
      if (op.op === 'directory') await context.mkdir(op.target, op.mode, ROOT);
      else if (op.op === 'hide') context.hide(op.path);
      else if (op.op !== 'root') await addMount(context, op);
    } catch (err) {
      if (isFusejailError(err)) throw err;
      const what = op.op === 'symlink' || op.op === 'hide' ? op.path : op.op === 'root' ? '/' : op.target;
      throw new ConfigInvalid(`layout: ${op.op} ${what}: ${(err as Error).message}`, { cause: err });
    }
  }
  return context;
}
