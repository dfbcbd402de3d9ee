// Test helper: a real context server on a fresh mountpoint, always stopped and unmounted at teardown.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ContextServer, contextServerProgram } from '../../src/context-server/server.js';
import type { ExecRule, TableOp } from '../../src/context-server/table.js';
import { mountedHere } from '../../src/host/mounts.js';
import { tempDir } from './fuse.js';

/** Why the context server cannot be tested here, or false when it can. */
export function contextServerUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (mounts with allow_other, tmpfs via the mount API)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse on this machine';
  if (!existsSync(contextServerProgram)) return `not built: ${contextServerProgram} is missing (run make build)`;
  return false;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Lazily unmounts whatever is still mounted at `dir` (a test that failed half-way). */
export function forceUnmount(dir: string): void {
  for (let i = 0; i < 4 && mountedHere(dir); i++) {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {}
  }
}

export interface Context {
  server: ContextServer;
  /** The host directory holding `root` (the mountpoint) and `exposed` (an empty dir for expose). */
  dir: string;
  root: string;
  exposed: string;
}

export const ramfsRoot = (size = 16 << 20): TableOp => ({ op: 'mount', mount: { type: 'ramfs', target: '/', readOnly: false, size, mode: 0o755 } });

/** A fresh directory for host sources (removed at teardown). */
export function hostDir(t: Teardown, prefix: string): string {
  const dir = tempDir(prefix);
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startContext(t: Teardown, table: readonly TableOp[], exec: ExecRule = { jailed: false, allow: null }): Promise<Context> {
  const dir = tempDir('cs');
  chmodSync(dir, 0o755);
  const root = join(dir, 'root');
  mkdirSync(root);
  const exposed = join(dir, 'exposed');
  mkdirSync(exposed);
  let server: ContextServer | undefined;
  // NOTE: one teardown in this order: a directory is removed only once nothing is mounted in it.
  t.teardown(async () => {
    await server?.stop().catch(() => {});
    forceUnmount(exposed);
    forceUnmount(root);
    if (!mountedHere(root) && !mountedHere(exposed)) rmSync(dir, { recursive: true, force: true });
  });
  server = await ContextServer.start({ mountpoint: root, fsname: 'fusejail-test', table, exec });
  return { server, dir, root, exposed };
}
