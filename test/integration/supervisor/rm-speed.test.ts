// rm -f ends a container's processes at once: no killed payload is left for the host's init to reap.
import { execFile } from 'node:child_process';
import t from 'tap';
import { fusejail, fuseUnavailable } from '../../helpers/fuse.js';
import { alive, cli } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

/** `rm -f --trace NAME`: its release steps, in ms. */
function rmTraced(dir: string, name: string): Promise<Record<string, number>> {
  return new Promise((resolve) =>
    execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', `FUSEJAIL_STATE_DIR=${dir}`, fusejail, 'rm', '-f', '--trace', name], (_err, _stdout, stderr) =>
      resolve(Object.fromEntries([...stderr.matchAll(/^fusejail: trace: (release: [a-z-]+)(?: \d+)? (\d+\.\d) ms$/gm)].map((m) => [m[1]!, Number(m[2])]))),
    ),
  );
}

t.test('rm -f: the killed payload is reaped by its launcher, so the process list ends in milliseconds', { skip }, async (t) => {
  const { dir, run } = cli(t);
  for (const [i, command] of [['sleep', '1000'], ['sh', '-c', 'sleep 1000 & sleep 1000'], ['sleep', '1000'], ['sleep', '1000']].entries()) {
    t.equal((await run(['run', '-d', '--name', `q${i}`, '--', ...command])).status, 0);
    const pids = (JSON.parse((await run(['ps', `q${i}`, '--json'])).stdout) as { hostPid: number }[]).map((p) => p.hostPid);
    const steps = await rmTraced(dir, `q${i}`);
    // NOTE: the host's init reaped an orphaned zombie up to seconds later; 500 ms is generous.
    t.ok(steps['release: processes']! + steps['release: process-list']! < 500, `q${i} (${command.join(' ')}): processes ${steps['release: processes']} ms, process list ${steps['release: process-list']} ms`);
    t.same(pids.filter(alive), [], 'none of its processes is left');
  }
  t.same(JSON.parse((await run(['ls', '--json'])).stdout), [], 'all removed');
});
