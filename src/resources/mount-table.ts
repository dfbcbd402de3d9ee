// The ordered mount table of a VFSRootContext: longest matching target wins.
import { MountTableError } from '../errors.js';
import { canonicalPath } from '../protocol/canonical-path.js';

export interface Mount<B> {
  readonly target: string;
  readonly backend: B;
  readonly readOnly: boolean;
  /** What it is, for people: its type (ramfs, bind, copy, …) and host source or link target. */
  readonly origin?: { readonly type: string; readonly source?: string };
}

export interface Resolved<B> {
  mount: Mount<B>;
  /** The path inside the backend ("/" for the mount's own root). */
  inner: string;
}

const within = (path: string, target: string): boolean =>
  target === '/' || path === target || path.startsWith(`${target}/`);

export class MountTable<B> {
  private readonly mounts: Mount<B>[] = [];

  get entries(): readonly Mount<B>[] {
    return this.mounts;
  }

  /** EBUSY when the target already has a mount, as SerenityOS's VFS answers. */
  add(mount: Mount<B>): void {
    const check = canonicalPath(mount.target);
    if (!check.ok) throw new MountTableError('EINVAL', `mount target "${mount.target}" ${check.reason}`);
    if (this.mounts.some((m) => m.target === mount.target)) {
      throw new MountTableError('EBUSY', `mount target "${mount.target}" is already in use`);
    }
    this.mounts.push(mount);
  }

  /** ENODEV when nothing is mounted at the target. Returns the removed mount. */
  remove(target: string): Mount<B> {
    const i = this.mounts.findIndex((m) => m.target === target);
    if (i < 0) throw new MountTableError('ENODEV', `nothing is mounted at "${target}"`);
    return this.mounts.splice(i, 1)[0]!;
  }

  resolve(path: string): Resolved<B> | undefined {
    let best: Mount<B> | undefined;
    for (const m of this.mounts) {
      if (within(path, m.target) && (!best || m.target.length > best.target.length)) best = m;
    }
    if (!best) return undefined;
    const inner = best.target === '/' ? path : path.slice(best.target.length) || '/';
    return { mount: best, inner };
  }

  /** Names of mount targets directly below `dir` (they appear in its listing even if absent). */
  childMountNames(dir: string): string[] {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const names = new Set<string>();
    for (const m of this.mounts) {
      if (m.target.length > prefix.length && m.target.startsWith(prefix)) {
        names.add(m.target.slice(prefix.length).split('/')[0]!);
      }
    }
    return [...names];
  }

  /** True when `path` is a mount target or lies on the way to one (it cannot be removed). */
  isBusy(path: string): boolean {
    return this.mounts.some((m) => m.target === path || m.target.startsWith(`${path}/`));
  }
}
