// A container's process limit (`max_processes`): a pids cgroup its launches join before they exec.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FusejailError } from '../errors.js';

/**
 * NOTE: every container gets a process limit, not only those that ask: container root ignores
 * RLIMIT_NPROC, so without one a fork bomb inside takes every PID of the host. 4096 is far above
 * what a build or a shell needs; `max_processes` raises or lowers it.
 */
export const DEFAULT_MAX_PROCESSES = 4096;

export class PidsLimitUnavailable extends FusejailError {
  constructor(message: string) {
    super('EINVAL', message);
  }
}

/** Where the pids controller is mounted: a cgroup v1 hierarchy of its own, or the v2 unified one. */
function hierarchy(): { path: string; v2: boolean } | undefined {
  let v2: string | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const [type, superOptions] = [fields[dash + 1], fields[dash + 3] ?? ''];
    if (type === 'cgroup' && superOptions.split(',').includes('pids')) return { path: fields[4]!, v2: false };
    if (type === 'cgroup2' && v2 === undefined) v2 = fields[4];
  }
  if (v2 && readFileSync(join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('pids')) return { path: v2, v2: true };
  return undefined;
}

/** One directory per supervisor (per state directory), so that two never touch each other's. */
function base(stateDir: string): { dir: string; v2: boolean } | undefined {
  const h = hierarchy();
  if (!h) return undefined;
  return { dir: join(h.path, `fusejail-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`), v2: h.v2 };
}

async function rmdirWhenEmpty(dir: string): Promise<void> {
  // NOTE: killed processes leave the cgroup only once reaped; rmdir is EBUSY until then.
  for (let i = 0; i < 100; i++) {
    try {
      return rmdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // NOTE: gone already, or still holding a container's cgroup: either way, nothing to do.
      if (code === 'ENOENT' || code === 'ENOTEMPTY') return;
      if (code !== 'EBUSY') throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export class PidsLimit {
  private constructor(
    /** The cgroup directory; a launch writes itself into its cgroup.procs. */
    readonly path: string,
  ) {}

  static create(stateDir: string, name: string, max: number): PidsLimit {
    const b = base(stateDir);
    if (!b) throw new PidsLimitUnavailable(`max_processes ${max}: this host has no pids cgroup controller`);
    // NOTE: cgroup v2 controls a child only when its parent delegates the controller.
    if (b.v2) writeFileSync(join(b.dir, '..', 'cgroup.subtree_control'), '+pids');
    mkdirSync(b.dir, { recursive: true });
    if (b.v2) writeFileSync(join(b.dir, 'cgroup.subtree_control'), '+pids');
    const path = join(b.dir, name);
    mkdirSync(path);
    writeFileSync(join(path, 'pids.max'), String(max));
    return new PidsLimit(path);
  }

  /** After a SIGKILL of the supervisor: the empty cgroups it left behind. */
  static async clearStale(stateDir: string): Promise<string[]> {
    const b = base(stateDir);
    if (!b || !existsSync(b.dir)) return [];
    const cleared = readdirSync(b.dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(b.dir, e.name));
    for (const dir of [...cleared, b.dir]) await rmdirWhenEmpty(dir);
    return cleared;
  }

  /** Call once its processes were killed. The supervisor's directory goes with its last limit. */
  async destroy(): Promise<void> {
    await rmdirWhenEmpty(this.path);
    try {
      rmdirSync(join(this.path, '..'));
    } catch {
      // NOTE: another container of this supervisor still has a limit (ENOTEMPTY/EBUSY).
    }
  }
}
