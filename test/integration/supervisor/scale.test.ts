// 100 idle containers at once: all start, all run, all go, and nothing of theirs is left.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { fuseUnavailable } from '../../helpers/fuse.js';
import { cli, mountsUnder } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();
const COUNT = 100;

/** The parent pid of a process, or undefined when it is gone. */
function parentOf(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1];
  } catch {
    return undefined;
  }
}

/** Runs `each` over 1..COUNT, four at a time (one supervisor serves them all). */
async function inBatches(each: (i: number) => Promise<void>): Promise<void> {
  for (let i = 1; i <= COUNT; i += 4) await Promise.all([i, i + 1, i + 2, i + 3].filter((n) => n <= COUNT).map(each));
}

t.test(`${COUNT} idle containers start, run, and are removed with nothing left`, { skip, timeout: 600_000 }, async (t) => {
  const { dir, run } = cli(t);
  const failed: string[] = [];
  await inBatches(async (i) => {
    const r = await run(['run', '-d', '--name', `idle${i}`, '--', 'sh', '-c', 'read x']);
    if (r.status !== 0) failed.push(`idle${i}: ${r.stderr.trim()}`);
  });
  t.same(failed, [], 'every container started');
  const listed = JSON.parse((await run(['ls', '--json'])).stdout) as { name: string; status: string }[];
  t.equal(listed.filter((c) => c.status === 'running').length, COUNT, `${COUNT} are running`);
  t.equal(mountsUnder(dir).filter((l) => l.includes('fuse.fusejail')).length, COUNT, 'one served root each');
  await inBatches(async (i) => {
    const r = await run(['rm', '-f', `idle${i}`]);
    if (r.status !== 0) failed.push(`rm idle${i}: ${r.stderr.trim()}`);
  });
  t.same(failed, [], 'every container was removed');
  t.same(JSON.parse((await run(['ls', '--json'])).stdout), [], 'none is listed');
  t.same(JSON.parse((await run(['resources', '--json'])).stdout), [], 'no resource is left');
  t.same(mountsUnder(dir), [], 'no mount is left');
  const supervisor = readFileSync(`${dir}/supervisor.pid`, 'utf8').trim();
  t.same(readdirSync('/proc').filter((p) => /^\d+$/.test(p) && parentOf(p) === supervisor), [], 'the supervisor has no process left for them');
});
