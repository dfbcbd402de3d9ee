// podman (through conmon) drives each OCI runtime: run --rm, -it through tmux, -d then exec, ps, stop, kill, rm.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import type { ContainerInfo } from '../../../src/protocol/messages.js';
import { fusejail } from '../../helpers/fuse.js';
import { exec, IMAGE, podman, runtimes } from '../../helpers/oci-clients.js';
import { hasTmux, until } from '../../helpers/supervisor.js';

const base = process.getuid?.() !== 0 ? 'needs root (podman as root, with its storage in a temp dir)' : !hasPodman() ? 'podman is not installed (make test-deps)' : false;

function hasPodman(): boolean {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `podman ps -a`: each container's name and state (created, running, exited). */
async function states(p: Awaited<ReturnType<typeof podman>>): Promise<Record<string, string>> {
  const r = await p.run(['ps', '-a', '--format', 'json']);
  return Object.fromEntries((JSON.parse(r.stdout) as { Names: string[]; State: string }[]).map((c) => [c.Names[0]!, c.State]));
}

for (const runtime of runtimes()) {
  const skip = base || runtime.skip;
  // NOTE: --network none: no CNI or netavark set up; the runtime still joins the netns podman made.
  const RUN = ['--runtime', runtime.path, 'run', '--network', 'none'];

  t.test(`${runtime.name}: podman run --rm: stdout exact, exit status passed through`, { skip }, async (t) => {
    const p = await podman(t);
    const r = await p.run([...RUN, '--rm', IMAGE, 'sh', '-c', 'echo hi; exit 3']);
    t.equal(r.stdout, 'hi\n', r.stderr);
    t.equal(r.status, 3);
    const missing = await p.run([...RUN, '--rm', IMAGE, '/no/such/program']);
    t.equal(missing.status, 127, `a missing program is 127, as podman maps the runtime's words: ${missing.stderr}`);
    t.same(await states(p), {}, '--rm left no container');
  });

  t.test(`${runtime.name}: podman run -it through tmux: a shell answers, exit 5 gives 5`, { skip: skip || (hasTmux() ? false : 'tmux is not installed') }, async (t) => {
    const p = await podman(t);
    const session = `fj-podman-${process.pid}-${runtime.name}`;
    const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
    t.teardown(() => {
      try {
        tmux('kill-session', '-t', session);
      } catch {}
    });
    const env = Object.entries(p.env).filter(([k]) => k === 'FUSEJAIL_STATE_DIR' || k === 'CONTAINERS_CONF').map(([k, v]) => `${k}=${v}`).join(' ');
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', `env -u NODE_OPTIONS ${env} podman ${p.args.join(' ')} ${RUN.join(' ')} -it --rm ${IMAGE} sh; echo EXIT=$?; sleep 60`);
    const screen = () => tmux('capture-pane', '-t', session, '-p');
    const seen = async (pattern: RegExp) => (await until(() => pattern.test(screen()), 20_000)) || t.fail(`not seen: ${pattern}\n${screen()}`);
    const type = (keys: string) => tmux('send-keys', '-t', session, keys, 'Enter');
    type('echo READY-$((40+2)); tty');
    await seen(/^READY-42$/m);
    t.match(screen(), /^\/dev\/pts\/\d+$/m, 'its stdin is a terminal (the pty the runtime sent over --console-socket)');
    type('exit 5');
    await seen(/^EXIT=\d+$/m);
    t.match(screen(), /^EXIT=5$/m);
  });

  t.test(`${runtime.name}: podman run -d, exec, ps, stop, kill, rm`, { skip }, async (t) => {
    const p = await podman(t);
    t.equal((await p.run(['--runtime', runtime.path, 'create', '--network', 'none', '--name', 'd0', IMAGE, 'true'])).status, 0);
    t.same(await states(p), { d0: 'created' }, 'podman create makes the container, no runtime call yet');
    const started = await p.run([...RUN, '-d', '--name', 'd1', IMAGE, 'sleep', '600']);
    t.equal(started.status, 0, started.stderr);
    t.equal((await states(p)).d1, 'running');
    if (runtime.name === 'fusejail') {
      // NOTE: the supervisor serves its root and lists it, under the key the runtime gave.
      const ls = JSON.parse((await exec(fusejail, ['ls', '--json'], { env: p.env })).stdout) as ContainerInfo[];
      t.match(ls, [{ kind: 'oci', status: 'running', command: ['sleep', '600'] }], 'fusejail ls lists it as an OCI container');
    }
    const inside = await p.run(['--runtime', runtime.path, 'exec', 'd1', 'sh', '-c', 'echo in; exit 4']);
    t.equal(inside.stdout, 'in\n', inside.stderr);
    t.equal(inside.status, 4, 'exec passes its own status through');
    t.equal((await p.run(['--runtime', runtime.path, 'exec', 'd1', 'cat', '/proc/1/cmdline'])).stdout, 'sleep\x00600\x00', 'exec joined its PID namespace');
    // NOTE: sleep as PID 1 ignores SIGTERM, so stop ends it with SIGKILL after the timeout: 137.
    const stop = await p.run(['--runtime', runtime.path, 'stop', '--time', '1', 'd1']);
    t.equal(stop.status, 0, stop.stderr);
    t.equal((await states(p)).d1, 'exited');
    t.match((await p.run(['inspect', '--format', '{{.State.ExitCode}}', 'd1'])).stdout, /^137\n/);

    t.equal((await p.run([...RUN, '-d', '--name', 'd2', IMAGE, 'sh', '-c', 'trap "exit 7" USR1; while :; do sleep 0.1; done'])).status, 0);
    t.equal((await p.run(['--runtime', runtime.path, 'kill', '--signal', 'USR1', 'd2'])).status, 0);
    t.ok(await until(async () => (await states(p)).d2 === 'exited', 10_000), 'kill delivered the signal');
    t.match((await p.run(['inspect', '--format', '{{.State.ExitCode}}', 'd2'])).stdout, /^7\n/, 'and its exit status came back');

    t.equal((await p.run([...RUN, '-d', '--name', 'd3', IMAGE, 'sleep', '600'])).status, 0);
    const rm = await p.run(['--runtime', runtime.path, 'rm', '--force', '--time', '0', 'd0', 'd1', 'd2', 'd3']);
    t.equal(rm.status, 0, rm.stderr);
    t.same(await states(p), {}, 'rm removed them all, the running one too');
    if (runtime.name === 'fusejail') {
      // NOTE: podman runs `delete` without the environment `create` had: the runtime must find the
      // supervisor that served the root by itself (from its state), or the root stays served.
      t.same(JSON.parse((await exec(fusejail, ['ls', '--json'], { env: p.env })).stdout), [], 'their roots were released too');
    }
  });
}
