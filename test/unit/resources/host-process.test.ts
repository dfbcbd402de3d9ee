// HostProcess: a process the supervisor did not start, known by PID and start time, seen to end.
import { spawn } from 'node:child_process';
import t from 'tap';
import { HostProcess } from '../../../src/resources/host-process.js';

t.test('a live process is found, watched, and seen to end once', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  const p = HostProcess.find(child.pid!);
  t.ok(p, 'found');
  t.equal(p!.alive, true);
  let ended = 0;
  p!.onEnd(() => ended++);
  const watch = p!.watch();
  t.teardown(() => watch.dispose());
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  for (const end = Date.now() + 3000; ended === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
  t.equal(ended, 1, 'the poll saw it end');
  t.equal(p!.alive, false);
  p!.check();
  t.equal(ended, 1, 'told once');
});

t.test('no such process: nothing is found', async (t) => {
  t.equal(HostProcess.find(2 ** 22 + 11), undefined);
});
