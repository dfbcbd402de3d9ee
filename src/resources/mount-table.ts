// The ordered mount table of a VFSRootContext: longest matching target wins.
import { MountTableError } from '../errors.js';
import { canonicalPath } from '../protocol/canonical-path.js';

export interface Resolved<M> {
  mount: M;
  /** The path inside the mount ("/" for the mount's own root). */
  inner: string;
}

const within = (path: string, target: string): boolean =>
  target === '/' || path === target || path.startsWith(`${target}/`);

export class MountTable<M extends { readonly target: string }> {
  private readonly mounts: M[] = [];

  get entries(): readonly M[] {
    return this.mounts;
  }

  /** EINVAL for a target that is not canonical, EBUSY when it already has a mount (SerenityOS's VFS). */
  check(mount: M): void {
    const check = canonicalPath(mount.target);
    if (!check.ok) throw new MountTableError('EINVAL', `mount target "${mount.target}" ${check.reason}`);
    if (this.mounts.some((m) => m.target === mount.target)) {
      throw new MountTableError('EBUSY', `mount target "${mount.target}" is already in use`);
    }
  }

  add(mount: M): void {
    this.check(mount);
    this.mounts.push(mount);
  }

  /** ENODEV when nothing is mounted at the target; EBUSY for the root, which a served context keeps. */
  find(target: string): M {
    const mount = this.mounts.find((m) => m.target === target);
    if (!mount) throw new MountTableError('ENODEV', `nothing is mounted at "${target}"`);
    if (target === '/') throw new MountTableError('EBUSY', 'the root mount "/" cannot be removed from a context in use');
    return mount;
  }

  remove(target: string): M {
    const mount = this.find(target);
    this.mounts.splice(this.mounts.indexOf(mount), 1);
    return mount;
  }

  resolve(path: string): Resolved<M> | undefined {
    let best: M | undefined;
    for (const m of this.mounts) {
      if (within(path, m.target) && (!best || m.target.length > best.target.length)) best = m;
    }
    if (!best) return undefined;
    const inner = best.target === '/' ? path : path.slice(best.target.length) || '/';
    return { mount: best, inner };
  }
}
