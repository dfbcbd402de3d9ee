// Absolute canonical paths: the only form mount targets and layout paths may take.

export type CanonicalCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Accepts "/" and "/a/b"; rejects relative paths, "." and ".." components and "//". A trailing "/"
 * is dropped only when `trailingSlash` is 'drop' (SerenityOS configs write directories as "/usr/").
 */
export function canonicalPath(value: string, trailingSlash: 'drop' | 'reject' = 'reject'): CanonicalCheck {
  if (!value.startsWith('/')) return { ok: false, reason: 'must be absolute' };
  if (value.includes('\0')) return { ok: false, reason: 'must not contain a NUL byte' };
  if (value.includes('//')) return { ok: false, reason: 'must not contain "//"' };
  let path = value;
  if (path.length > 1 && path.endsWith('/')) {
    if (trailingSlash === 'reject') return { ok: false, reason: 'must not end with "/"' };
    path = path.slice(0, -1);
  }
  if (path === '/') return { ok: true, path };
  for (const part of path.slice(1).split('/')) {
    if (part === '.' || part === '..') return { ok: false, reason: `must not contain a "${part}" component` };
  }
  return { ok: true, path };
}
