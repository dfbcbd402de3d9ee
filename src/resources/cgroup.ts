// A container's cgroup: its process, memory and CPU limits and what it uses, on cgroup v1 or v2.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FusejailError } from '../errors.js';

export class CgroupUnavailable extends FusejailError {
  constructor(message: string) {
    super('EINVAL', message);
  }
}

/**
 * NOTE: every container gets a process limit, not only those that ask: container root ignores
 * RLIMIT_NPROC, so without one a fork bomb inside takes every PID of the host. 4096 is far above
 * what a build or a shell needs; `max_processes` raises or lowers it.
 */
export const DEFAULT_MAX_PROCESSES = 4096;

/** What a container may use; memory in bytes, cpus as a number of CPUs (fractions allowed). */
export interface Limits {
  readonly maxProcesses: number;
  readonly memory?: number;
  readonly cpus?: number;
}

/** What it uses now; a figure the host cannot give is absent. */
export interface Usage {
  memory?: number;
  /** Total CPU time of its processes, in microseconds. */
  cpuMicros?: number;
  processes?: number;
  /** How many of its processes the OOM killer killed. */
  oomKills?: number;
}

// NOTE: cpuacct (CPU time) is v1's alone; v2's cpu controller counts time itself.
export type Controller = 'pids' | 'memory' | 'cpu' | 'cpuacct';
const CONTROLLERS: readonly Controller[] = ['pids', 'memory', 'cpu', 'cpuacct'];

/**
 * Where the controllers are mounted: cgroup v1 has a hierarchy per controller (cpu shares one
 * with cpuacct), v2 one unified hierarchy for all.
 */
export type Hierarchy = { readonly version: 1; readonly paths: Partial<Record<Controller, string>> } | { readonly version: 2; readonly path: string; readonly controllers: readonly Controller[] };

/** The host's: v1 where it has any of our controllers (a hybrid host's v2 then has none of them). */
export function hostHierarchy(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Hierarchy | undefined {
  const v1: Partial<Record<Controller, string>> = {};
  let v2: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const [type, options] = [fields[dash + 1], (fields[dash + 3] ?? '').split(',')];
    if (type === 'cgroup') for (const c of CONTROLLERS) if (options.includes(c)) v1[c] ??= fields[4]!;
    if (type === 'cgroup2' && v2 === undefined) v2 = fields[4];
  }
  if (Object.keys(v1).length > 0) return { version: 1, paths: v1 };
  return v2 ? v2Hierarchy(v2) : undefined;
}

/** A cgroup2 mount and the controllers it offers. */
export function v2Hierarchy(path: string): Hierarchy {
  const offered = readFileSync(join(path, 'cgroup.controllers'), 'utf8').split(/\s+/);
  return { version: 2, path, controllers: CONTROLLERS.filter((c) => c !== 'cpuacct' && offered.includes(c)) };
}

/** One directory per supervisor (per state directory), so that two never touch each other's. */
const supervisorDir = (stateDir: string) => `fusejail-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`;

const CFS_PERIOD = 100000;

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.events, cpu.stat, memory.oom_control): the value of `key`. */
function readKey(path: string, key: string): number | undefined {
  try {
    const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith(`${key} `));
    return line ? Number(line.split(' ')[1]) : undefined;
  } catch {
    return undefined;
  }
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

/** The directories of this supervisor: one per v1 hierarchy, or the one of v2. */
function supervisorDirs(stateDir: string, h: Hierarchy): string[] {
  const roots = h.version === 1 ? [...new Set(Object.values(h.paths))] : [h.path];
  return roots.map((r) => join(r, supervisorDir(stateDir)));
}

export class ContainerCgroup {
  private constructor(
    private readonly h: Hierarchy,
    /** Per controller, the container's directory; v2 has one for all. */
    private readonly dirs: Partial<Record<Controller, string>>,
    readonly limits: Limits,
  ) {}

  /**
   * Makes the container's cgroup and sets its limits. A limit the host cannot enforce is an error,
   * except the default process limit, which is only what the host allows.
   */
  static create(stateDir: string, name: string, limits: Limits, options: { asked: boolean; hierarchy?: Hierarchy }): ContainerCgroup {
    const h = options.hierarchy ?? hostHierarchy();
    const has = (c: Controller) => (h === undefined ? false : h.version === 1 ? h.paths[c] !== undefined : h.controllers.includes(c));
    const wanted: [Controller, boolean][] = [['pids', options.asked], ['memory', limits.memory !== undefined], ['cpu', limits.cpus !== undefined]];
    for (const [c, needed] of wanted) {
      if (needed && !has(c)) throw new CgroupUnavailable(`${c === 'pids' ? 'max_processes' : c === 'memory' ? 'memory' : 'cpus'}: this host has no ${c} cgroup controller`);
    }
    if (!h || (h.version === 2 && h.controllers.length === 0)) return new ContainerCgroup(h ?? { version: 1, paths: {} }, {}, limits);
    const dirs: Partial<Record<Controller, string>> = {};
    if (h.version === 1) {
      for (const c of CONTROLLERS.filter(has)) {
        dirs[c] = join(h.paths[c]!, supervisorDir(stateDir), name);
        mkdirSync(dirs[c]!, { recursive: true });
      }
      if (dirs.pids) writeFileSync(join(dirs.pids, 'pids.max'), String(limits.maxProcesses));
      if (dirs.memory && limits.memory !== undefined) writeFileSync(join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memory));
      if (dirs.cpu && limits.cpus !== undefined) {
        writeFileSync(join(dirs.cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD));
        writeFileSync(join(dirs.cpu, 'cpu.cfs_quota_us'), String(quota(limits.cpus)));
      }
    } else {
      // NOTE: cgroup v2 controls a child only when its parent delegates the controller.
      const enable = h.controllers.map((c) => `+${c}`).join(' ');
      const mine = join(h.path, supervisorDir(stateDir));
      if (enable) writeFileSync(join(h.path, 'cgroup.subtree_control'), enable);
      mkdirSync(mine, { recursive: true });
      if (enable) writeFileSync(join(mine, 'cgroup.subtree_control'), enable);
      const dir = join(mine, name);
      mkdirSync(dir);
      for (const c of h.controllers) dirs[c] = dir;
      if (has('pids')) writeFileSync(join(dir, 'pids.max'), String(limits.maxProcesses));
      if (limits.memory !== undefined) writeFileSync(join(dir, 'memory.max'), String(limits.memory));
      if (limits.cpus !== undefined) writeFileSync(join(dir, 'cpu.max'), `${quota(limits.cpus)} ${CFS_PERIOD}`);
    }
    return new ContainerCgroup(h, dirs, limits);
  }

  /** The directories a launch writes itself into (cgroup.procs), before anything else. */
  get paths(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  /** Which controllers limit or count it. */
  get controllers(): Controller[] {
    return CONTROLLERS.filter((c) => this.dirs[c] !== undefined);
  }

  get version(): 1 | 2 {
    return this.h.version;
  }

  usage(): Usage {
    const out: Usage = {};
    const set = (key: keyof Usage, c: Controller, read: (dir: string) => number | undefined) => {
      const dir = this.dirs[c];
      const value = dir === undefined ? undefined : read(dir);
      if (value !== undefined) out[key] = value;
    };
    set('processes', 'pids', (d) => readNumber(join(d, 'pids.current')));
    if (this.h.version === 1) {
      set('memory', 'memory', (d) => readNumber(join(d, 'memory.usage_in_bytes')));
      // NOTE: in nanoseconds; cpuacct may share cpu's hierarchy or have its own.
      set('cpuMicros', 'cpuacct', (d) => {
        const ns = readNumber(join(d, 'cpuacct.usage'));
        return ns === undefined ? undefined : Math.round(ns / 1000);
      });
      set('oomKills', 'memory', (d) => readKey(join(d, 'memory.oom_control'), 'oom_kill'));
    } else {
      set('memory', 'memory', (d) => readNumber(join(d, 'memory.current')));
      set('cpuMicros', 'cpu', (d) => readKey(join(d, 'cpu.stat'), 'usage_usec'));
      set('oomKills', 'memory', (d) => readKey(join(d, 'memory.events'), 'oom_kill'));
    }
    return out;
  }

  /** After a SIGKILL of the supervisor: the empty cgroups it left behind. */
  static async clearStale(stateDir: string, hierarchy = hostHierarchy()): Promise<string[]> {
    if (!hierarchy) return [];
    const cleared: string[] = [];
    for (const base of supervisorDirs(stateDir, hierarchy)) {
      if (!existsSync(base)) continue;
      const dirs = readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(base, e.name));
      for (const dir of [...dirs, base]) await rmdirWhenEmpty(dir);
      cleared.push(...dirs);
    }
    return cleared;
  }

  /** Call once its processes were killed. The supervisor's directories go with its last container. */
  async destroy(): Promise<void> {
    for (const dir of this.paths) {
      await rmdirWhenEmpty(dir);
      try {
        rmdirSync(join(dir, '..'));
      } catch {
        // NOTE: another container of this supervisor still has a cgroup (ENOTEMPTY/EBUSY).
      }
    }
  }
}

/** CPUs as a CFS quota per 100 ms period; the kernel's minimum is 1 ms. */
function quota(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CFS_PERIOD));
}

/** 67108864 -> "64 MiB": the largest binary unit that divides it, else bytes. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) if (bytes % size === 0) return `${bytes / size} ${unit}`;
  return `${bytes} bytes`;
}
