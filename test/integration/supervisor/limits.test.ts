// Memory and CPU limits through the CLI: the OOM killer's message and event, stats, the cgroup namespace.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable } from '../../helpers/fuse.js';
import { cli, mountsUnder, until } from '../../helpers/supervisor.js';
import type { ContainerStats } from '../../../src/protocol/messages.js';
import { ContainerCgroup, hostHierarchy, v2Hierarchy } from '../../../src/resources/cgroup.js';

const skip = fuseUnavailable();
const host = hostHierarchy();
const v1 = host?.version === 1 ? host.paths : undefined;
const needs = (...controllers: ('memory' | 'cpu' | 'cpuacct' | 'pids')[]) =>
  skip || (host && controllers.every((c) => (host.version === 1 ? host.paths[c] : host.controllers.includes(c as never))) ? false : `this host has no ${controllers.join('/')} cgroup controller`);

// NOTE: bytes written, not merely allocated (calloc'd pages would not count).
const HOG = 'python3 -c "x = b\'x\' * (200 * 2**20)"';

t.test('a memory hog under --memory 64M: exit 137, the reason on stderr, an oom event', { skip: needs('memory') }, async (t) => {
  const { run } = cli(t);
  const r = await run(['run', '--name', 'hog', '--memory', '64M', '--', 'sh', '-c', `exec ${HOG}`]);
  t.same([r.status, r.stderr], [137, 'fusejail: hog: killed: out of memory (limit 64 MiB)\n']);
  await run(['run', '-d', '--name', 'kept', '--memory', '64M', '--', 'sh', '-c', `exec ${HOG}`]);
  t.teardown(() => run(['rm', '-f', 'kept']));
  t.ok(await until(async () => (await run(['ls'])).stdout.includes('exited')), 'the detached hog ended');
  t.match((await run(['events', 'kept'])).stdout, /oom .*killed by the OOM killer \(limit 64 MiB\)/);
  const fine = await run(['run', '--memory', '256M', '--', 'sh', '-c', `${HOG} && echo survived`]);
  t.same([fine.status, fine.stdout], [0, 'survived\n'], 'under a higher limit the same program runs');
});

t.test('stats: memory, CPU time and processes move when the payload works; --json', { skip: needs('memory', 'pids') }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--name', 's', '--memory', '1G', '--', 'sh', '-c', `while [ ! -e /tmp/go ]; do sleep 0.1; done; python3 -c "x = b'x' * (100 * 2**20); sum(range(3 * 10**7)); import time; time.sleep(600)"`]);
  t.teardown(() => run(['rm', '-f', 's']));
  const stats = async () => JSON.parse((await run(['stats', 's', '--json'])).stdout) as ContainerStats;
  const before = await stats();
  t.ok(before.memory! < 50 * 2 ** 20, `little memory at first (${before.memory})`);
  t.same(before.limits, { maxProcesses: 4096, memory: 2 ** 30 });
  await run(['exec', 's', '--', 'touch', '/tmp/go']);
  t.ok(await until(async () => (await stats()).memory! > 100 * 2 ** 20, 20000), 'memory rises past 100 MiB');
  const after = await stats();
  t.ok(after.processes! >= 1 && after.processes! < 10, `processes counted (${after.processes})`);
  if (after.cpuMicros !== undefined) t.ok(after.cpuMicros > before.cpuMicros! + 100000, `CPU time rises (${before.cpuMicros} -> ${after.cpuMicros} µs)`);
  const text = (await run(['stats', 's'])).stdout;
  t.match(text, /^memory\s+\d+\.\d MiB\s+1 GiB$/m);
  t.match(text, /^processes\s+\d+\s+4096$/m);
});

t.test('--cpus 0.5 sets the CFS quota; the container sees its cgroup as /', { skip: needs('cpu') }, async (t) => {
  const { dir, run } = cli(t);
  await run(['run', '-d', '--name', 'half', '--cpus', '0.5', '--', 'sleep', '600']);
  t.teardown(() => run(['rm', '-f', 'half']));
  const ours = `fusejail-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`;
  if (v1) {
    t.equal(readFileSync(join(v1.cpu!, ours, 'half', 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
    t.equal(readFileSync(join(v1.cpu!, ours, 'half', 'cpu.cfs_period_us'), 'utf8').trim(), '100000');
  } else if (host?.version === 2) {
    t.equal(readFileSync(join(host.path, ours, 'half', 'cpu.max'), 'utf8').trim(), '50000 100000');
  }
  const cgroups = (await run(['exec', 'half', '--', 'cat', '/proc/self/cgroup'])).stdout.trim().split('\n');
  t.ok(cgroups.length > 0 && cgroups.every((l) => l.endsWith(':/')), `every hierarchy shows / (${cgroups.join(' ')})`);
  t.notMatch(cgroups.join('\n'), /fusejail-/, 'the host\'s cgroup paths are not visible');
});

t.test('bad limits: exit 1 naming the value, nothing created', { skip }, async (t) => {
  const { dir, run } = cli(t);
  for (const [args, message] of [
    [['--memory', '0'], '--memory "0": must be more than 0 bytes'],
    [['--memory', '1Q'], '--memory "1Q": not a size (use a number with an optional k, M or G suffix)'],
    [['--cpus', '-1'], '--cpus "-1": expected a number of CPUs above 0 (fractions allowed, e.g. 0.5)'],
    [['--cpus', '0'], '--cpus "0": expected a number of CPUs above 0 (fractions allowed, e.g. 0.5)'],
  ] as const) {
    const r = await run(['run', ...args, '--', 'true']);
    t.same([r.status, r.stderr], [1, `fusejail: ${message}\n`], args.join(' '));
  }
  t.same(mountsUnder(dir), []);
});

t.test('cgroup v2: a hierarchy of our own, where the host offers its controllers there', { skip }, async (t) => {
  if (host?.version === 2) return t.pass('the host is v2: every test above ran on it');
  const mnt = mkdtempSync(join(tmpdir(), 'fusejail-cgroup2-'));
  t.teardown(() => {
    try {
      execFileSync('umount', [mnt]);
    } catch {}
    rmdirSync(mnt);
  });
  execFileSync('mount', ['-t', 'cgroup2', 'none', mnt]);
  const h = v2Hierarchy(mnt);
  const missing = ['memory', 'cpu', 'pids'].filter((c) => h.version !== 2 || !(h.controllers as string[]).includes(c));
  if (missing.length > 0) {
    t.comment(`skipped: this host binds ${missing.join(', ')} to cgroup v1 hierarchies, so a cgroup2 mount cannot offer them; the v2 code path is tested against a recorded tree in test/unit/resources/cgroup.test.ts`);
    return t.skip(`cgroup2 here offers no ${missing.join('/')} controller (bound to v1)`);
  }
  // NOTE: the supervisor takes the host's hierarchy; here the module is given ours directly.
  const cgroup = ContainerCgroup.create('/fusejail-test-state', 'v2', { maxProcesses: 7, memory: 64 * 2 ** 20, cpus: 0.5 }, { asked: true, hierarchy: h });
  t.teardown(() => cgroup.destroy());
  const dir = cgroup.paths[0]!;
  t.same([readFileSync(join(dir, 'pids.max'), 'utf8').trim(), readFileSync(join(dir, 'memory.max'), 'utf8').trim(), readFileSync(join(dir, 'cpu.max'), 'utf8').trim()], ['7', '67108864', '50000 100000']);
  t.equal(cgroup.usage().processes, 0);
});
