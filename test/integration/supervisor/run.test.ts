// `fusejail run` end to end: a container from the default or a config, attached, then gone.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { fusejail, fuseUnavailable, repo } from '../../helpers/fuse.js';
import { cli, hasTmux, mountsUnder } from '../../helpers/supervisor.js';

const skip = fuseUnavailable();

t.test('the embedded default: jailed, its own processes and hostname, host secrets hidden', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const r = await run(['run', '--', 'sh', '-c', 'hostname; echo pid=$$; ls /; ls /etc/shadow /etc/gshadow 2>&1; grep NoNewPrivs /proc/self/status; exit 3']);
  t.equal(r.status, 3, 'the command\'s exit status is the CLI\'s');
  const lines = r.stdout.split('\n');
  t.equal(lines[0], 'fusejail');
  t.equal(lines[1], 'pid=2', 'PID 1 is the list\'s init; the command comes next');
  for (const dir of ['dev', 'etc', 'home', 'proc', 'root', 'tmp', 'usr']) t.ok(lines.includes(dir), `/${dir} is there`);
  t.notOk(lines.includes('work') || lines.includes('var'), 'host directories outside the layout are not');
  t.match(r.stdout, /ls: cannot access '\/etc\/shadow': No such file or directory/);
  t.match(r.stdout, /ls: cannot access '\/etc\/gshadow': No such file or directory/);
  t.match(r.stdout, /NoNewPrivs:\s+1/);
  t.same(JSON.parse((await run(['resources', '--json'])).stdout), [], 'its resources are gone once it exited');
  t.same(mountsUnder(dir), [], 'no mount or pin is left');
});

t.test('a SerenityOS-style config; -i passes stdin; stdout kept apart from stderr', { skip }, async (t) => {
  const { run } = cli(t);
  const r = await run(['run', '-f', join(repo, 'examples/buggiebox.json'), '--', '/bin/ls', '/']);
  t.equal(r.status, 0);
  t.equal(r.stdout, 'bin\netc\nproc\ntmp\n', 'only what the layout made');
  const io = await run(['run', '-i', '--', 'sh', '-c', 'read l; echo "out:$l"; echo err >&2; exit 5'], 'line\n');
  t.same(io, { status: 5, stdout: 'out:line\n', stderr: 'err\n' });
  const closed = await run(['run', '--', 'sh', '-c', 'read l; echo "read:$?:$l"'], 'line\n');
  t.equal(closed.stdout, 'read:1:\n', 'without -i the command reads end-of-file, not our stdin');
});

t.test('exit statuses: 127 not found, 126 not executable, 1 for a bad config (nothing created)', { skip }, async (t) => {
  const { run } = cli(t);
  const missing = await run(['run', '--', 'no-such-command']);
  t.equal(missing.status, 127);
  t.equal(missing.stderr, 'fusejail: no-such-command: command not found\n', 'said once');
  t.equal((await run(['run', '--', '/etc/passwd'])).status, 126);
  const bad = await run(['run', '-f', join(repo, 'package.json')]);
  t.equal(bad.status, 1);
  t.equal(bad.stderr, `fusejail: ${join(repo, 'package.json')}: missing key "jail"\n`);
  t.same(JSON.parse((await run(['resources', '--json'])).stdout), []);
});

t.test('an interactive shell through tmux: prompt, stty size, resize, Ctrl-C, exit 3, terminal restored', { skip: skip || (hasTmux() ? false : 'tmux is not installed') }, async (t) => {
  const { dir } = cli(t);
  const session = `fj-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
  t.teardown(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {}
  });
  tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', `env -u NODE_OPTIONS FUSEJAIL_STATE_DIR=${dir} ${fusejail} run -t; echo EXIT=$?; stty -a | grep -o -- ' -*icanon' ; sleep 30`);
  const screen = () => tmux('capture-pane', '-t', session, '-p');
  const until = async (pattern: RegExp) => {
    for (const end = Date.now() + 10_000; !pattern.test(screen()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
    return screen();
  };
  t.match(await until(/root@fusejail:\/#/), /root@fusejail:\/#/, 'a prompt with the container\'s hostname');
  tmux('send-keys', '-t', session, 'stty size', 'Enter');
  t.match(await until(/^30 100$/m), /^30 100$/m);
  tmux('send-keys', '-t', session, 'sleep 100', 'Enter');
  await new Promise((r) => setTimeout(r, 500));
  tmux('send-keys', '-t', session, 'C-c');
  tmux('send-keys', '-t', session, 'echo still-$((40+2))', 'Enter');
  t.match(await until(/^still-42$/m), /^still-42$/m, 'Ctrl-C interrupted sleep, not the shell');
  tmux('resize-window', '-t', session, '-x', '120', '-y', '40');
  await new Promise((r) => setTimeout(r, 300));
  tmux('send-keys', '-t', session, 'stty size', 'Enter');
  t.match(await until(/^40 120$/m), /^40 120$/m, 'the container follows a resize');
  tmux('send-keys', '-t', session, 'exit 3', 'Enter');
  const end = await until(/icanon/);
  t.match(end, /^EXIT=3$/m);
  t.match(end, /^ icanon$/m, 'the terminal is back in canonical mode');
});

t.test('a config that is not JSON, or not there, is named with exit 1, never a crash', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'broken.json'), '{ broken');
  const broken = await run(['run', '-f', join(dir, 'broken.json'), '--', 'true']);
  t.equal(broken.status, 1);
  t.match(broken.stderr, new RegExp(`^fusejail: ${join(dir, 'broken.json')}: not valid JSON \\(.+\\)\\n$`));
  const missing = await run(['run', '-f', join(dir, 'none.json'), '--', 'true']);
  t.equal(missing.status, 1);
  t.equal(missing.stderr, `fusejail: ${join(dir, 'none.json')}: cannot read the config (ENOENT)\n`);
});
