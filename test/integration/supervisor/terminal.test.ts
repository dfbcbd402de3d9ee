// Under -t the payload leads its own session with the pty as its controlling terminal: job control works.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { fusejail, fuseUnavailable } from '../../helpers/fuse.js';
import { cli, hasTmux } from '../../helpers/supervisor.js';

const skip = fuseUnavailable() || (hasTmux() ? false : 'tmux is not installed');

const SHELLS: [string, string[]][] = [
  ['dash (/bin/sh)', ['/bin/sh']],
  ['busybox sh', ['busybox', 'sh']],
  ['bash', ['bash', '--norc', '--noprofile']],
];

for (const [name, shell] of SHELLS) {
  t.test(`${name}: its own session and foreground group inside, Ctrl-Z, jobs, fg, Ctrl-C, exit 3`, { skip }, async (t) => {
    const { dir } = cli(t);
    const session = `fj-${process.pid}-${shell.join('')}`.replace(/[^A-Za-z0-9-]/g, '');
    const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
    t.teardown(() => {
      try {
        tmux('kill-session', '-t', session);
      } catch {}
    });
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '40', `env -u NODE_OPTIONS FUSEJAIL_STATE_DIR=${dir} ${fusejail} run -t -- ${shell.join(' ')}; echo EXIT=$?; sleep 60`);
    const screen = () => tmux('capture-pane', '-t', session, '-p');
    const until = async (pattern: RegExp) => {
      for (const end = Date.now() + 10_000; !pattern.test(screen()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
      return screen();
    };
    const type = (keys: string) => tmux('send-keys', '-t', session, keys, 'Enter');
    // NOTE: typed before the shell reads, the line is echoed early and the output follows the prompt.
    type('echo READY-$((40+2))');
    t.match(await until(/READY-42$/m), /READY-42$/m, 'a shell that runs commands');
    // Fields of /proc/self/stat: pid comm state ppid pgrp session tty_nr tpgid.
    type('read -r pid comm st pp pg sid tty tp rest < /proc/self/stat; echo "S=$((sid == pid)) F=$((tp == pg)) T=$((tp > 0))"');
    t.match(await until(/^S=\d F=\d T=\d$/m), /^S=1 F=1 T=1$/m, 'it leads its session; the terminal\'s foreground group is its own, a process inside');
    type('sleep 100');
    await new Promise((r) => setTimeout(r, 700));
    tmux('send-keys', '-t', session, 'C-z');
    t.match(await until(/Stopped/i), /Stopped/i, 'Ctrl-Z stops the job');
    type('jobs');
    t.match(await until(/\[1\].*sleep 100[\s\S]*\[1\].*sleep 100/), /\[1\].*sleep 100[\s\S]*\[1\].*sleep 100/, 'jobs lists it');
    type('fg');
    await new Promise((r) => setTimeout(r, 700));
    tmux('send-keys', '-t', session, 'C-c');
    type('echo AFTER-$((1+2))');
    t.match(await until(/^AFTER-3$/m), /^AFTER-3$/m, 'fg resumed it; Ctrl-C ended it and not the shell');
    type('exit 3');
    const end = await until(/^EXIT=\d+$/m);
    t.match(end, /^EXIT=3$/m, 'exit 3 gives 3');
    t.notMatch(end, /Cannot set tty process group|can't access tty|no job control/i, 'no complaint about the terminal');
  });
}

t.test('without -t: no terminal, a session of its own', { skip: fuseUnavailable() }, async (t) => {
  const { run } = cli(t);
  const r = await run(['run', '--', 'sh', '-c', 'read -r pid comm st pp pg sid tty tp rest < /proc/self/stat; echo "S=$((sid == pid)) tty=$tty"; tty']);
  t.equal(r.stdout, 'S=1 tty=0\nnot a tty\n');
  t.equal(r.status, 1, 'tty(1) says there is none');
});
