// The container cgroup module against recorded trees: what it writes and reads on cgroup v1 and v2.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CgroupUnavailable, ContainerCgroup, formatBytes, hostHierarchy, v2Hierarchy } from '../../../src/resources/cgroup.js';

const tree = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'fusejail-cgroup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const read = (path: string) => readFileSync(path, 'utf8').trim();

t.test('v2: controllers delegated on the way down, limits in memory.max, cpu.max, pids.max; usage read back', async (t) => {
  const root = tree(t);
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma\n');
  const h = v2Hierarchy(root);
  t.same(h, { version: 2, path: root, controllers: ['pids', 'memory', 'cpu'] });
  const cgroup = ContainerCgroup.create('/state', 'box', { maxProcesses: 100, memory: 64 * 2 ** 20, cpus: 1.5 }, { asked: true, hierarchy: h });
  const dir = cgroup.paths[0]!;
  t.equal(cgroup.paths.length, 1, 'one directory for every controller');
  t.equal(read(join(root, 'cgroup.subtree_control')), '+pids +memory +cpu');
  t.equal(read(join(dir, '..', 'cgroup.subtree_control')), '+pids +memory +cpu');
  t.same([read(join(dir, 'pids.max')), read(join(dir, 'memory.max')), read(join(dir, 'cpu.max'))], ['100', '67108864', '150000 100000']);
  writeFileSync(join(dir, 'pids.current'), '3\n');
  writeFileSync(join(dir, 'memory.current'), '1048576\n');
  writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 250000\nuser_usec 200000\n');
  writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
  t.same(cgroup.usage(), { processes: 3, memory: 1048576, cpuMicros: 250000, oomKills: 1 });
});

t.test('v1: a directory per hierarchy; memory.limit_in_bytes, the CFS quota, cpuacct.usage, memory.oom_control', async (t) => {
  const root = tree(t);
  const paths = { pids: join(root, 'pids'), memory: join(root, 'memory'), cpu: join(root, 'cpu,cpuacct'), cpuacct: join(root, 'cpu,cpuacct') };
  for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
  const cgroup = ContainerCgroup.create('/state', 'box', { maxProcesses: 4096, memory: 2 ** 30, cpus: 0.5 }, { asked: false, hierarchy: { version: 1, paths } });
  t.equal(cgroup.paths.length, 3, 'pids, memory, and cpu with cpuacct sharing one hierarchy');
  const [pids, memory, cpu] = cgroup.paths as [string, string, string];
  t.same([read(join(pids, 'pids.max')), read(join(memory, 'memory.limit_in_bytes')), read(join(cpu, 'cpu.cfs_quota_us')), read(join(cpu, 'cpu.cfs_period_us'))], ['4096', '1073741824', '50000', '100000']);
  writeFileSync(join(pids, 'pids.current'), '2\n');
  writeFileSync(join(memory, 'memory.usage_in_bytes'), '4096\n');
  writeFileSync(join(cpu, 'cpuacct.usage'), '1500000\n');
  writeFileSync(join(memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  t.same(cgroup.usage(), { processes: 2, memory: 4096, cpuMicros: 1500, oomKills: 2 });
});

t.test('a limit the host cannot enforce is an error naming it; the default process limit is not', async (t) => {
  const none = { version: 1 as const, paths: {} };
  t.throws(() => ContainerCgroup.create('/s', 'x', { maxProcesses: 10, memory: 1 }, { asked: false, hierarchy: none }), new CgroupUnavailable('memory: this host has no memory cgroup controller'));
  t.throws(() => ContainerCgroup.create('/s', 'x', { maxProcesses: 10 }, { asked: true, hierarchy: none }), { message: 'max_processes: this host has no pids cgroup controller' });
  t.same(ContainerCgroup.create('/s', 'x', { maxProcesses: 10 }, { asked: false, hierarchy: none }).paths, []);
});

t.test('the host\'s hierarchy from mountinfo: v1 where it has our controllers, else v2', async (t) => {
  const line = (n: number, at: string, type: string, opts: string) => `${n} 1 0:${n} / ${at} rw - ${type} ${type} ${opts}`;
  const hybrid = [line(30, '/sys/fs/cgroup/unified', 'cgroup2', 'rw'), line(31, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'), line(32, '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'), line(33, '/sys/fs/cgroup/pids', 'cgroup', 'rw,pids')].join('\n');
  t.same(hostHierarchy(hybrid), { version: 1, paths: { memory: '/sys/fs/cgroup/memory', cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', pids: '/sys/fs/cgroup/pids' } });
  t.equal(formatBytes(64 * 2 ** 20), '64 MiB');
  t.equal(formatBytes(2 ** 30), '1 GiB');
  t.equal(formatBytes(1000), '1000 bytes');
});
