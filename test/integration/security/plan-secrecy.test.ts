// The launch plan (host paths, the sync socket, the end marker's nonce) is readable by nothing in a container.
import { readFileSync, readlinkSync } from 'node:fs';
import t from 'tap';
import { fuseUnavailable } from '../../helpers/fuse.js';
import { cli, until } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const pidns = (pid: number): string => readlinkSync(`/proc/${pid}/ns/pid`);

/** The launcher: the first ancestor outside the container's PID namespace. */
function launcherOf(pid: number): number {
  const inside = pidns(pid);
  let p = pid;
  while (pidns(p) === inside) p = parentOf(p);
  return p;
}

t.test('no plan, socket path or nonce in any environment, the launcher\'s included', { skip }, async (t) => {
  const { run } = cli(t);
  t.equal((await run(['run', '-d', '--name', 'sec', '--', 'sleep', '100'])).status, 0);
  t.teardown(() => run(['rm', '-f', 'sec']));
  // A terminal exec, so that its plan carries a nonce; it lives while we look at its launcher.
  const terminal = run(['exec', '-t', 'sec', '--', 'sh', '-c', 'sleep 3']);
  let launcher = 0;
  t.ok(
    await until(async () => {
      const ps = JSON.parse((await run(['ps', 'sec', '--json'])).stdout) as { hostPid: number; command: string }[];
      const sleeper = ps.find((p) => p.command === 'sleep 3');
      if (sleeper) launcher = launcherOf(sleeper.hostPid);
      return launcher > 0;
    }),
    'the terminal exec is running',
  );
  const environ = readFileSync(`/proc/${launcher}/environ`, 'latin1');
  t.notMatch(environ, /FUSEJAIL_PLAN|"nonce"|"root"|fusejail-launch-/, 'the launcher\'s environment holds no plan and no socket path');
  // Inside: every process's environment and command line, while another exec starts and ends.
  const inside = await run(['exec', 'sec', '--', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null; done | tr "\\0" "\\n"']);
  t.equal(inside.status, 0, inside.stderr);
  t.match(inside.stdout, /PATH=/, 'environments were read');
  t.notMatch(inside.stdout, /FUSEJAIL|"nonce"|fusejail-launch-|fusejail-end/, 'no plan, socket or nonce inside');
  t.equal((await terminal).status, 0);
});
