// As an ordinary user: verbs that make containers say they need root, in one line, before starting anything.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fusejail } from '../../helpers/fuse.js';

const NOBODY = 65534;
const skip = process.getuid?.() !== 0 ? 'needs root, to become an ordinary user' : false;

t.test('run, exec, unshare create, mount and expose: one line, exit 1, no supervisor started; ls works', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fusejail-nobody-'));
  chownSync(dir, NOBODY, NOBODY);
  const state = join(dir, 'state');
  const asNobody = (args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      const argv = ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/env', '-u', 'NODE_OPTIONS', `FUSEJAIL_STATE_DIR=${state}`, fusejail, ...args];
      execFile('setpriv', argv, { cwd: dir }, (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
  t.teardown(async () => {
    await asNobody(['daemon', '--stop']);
    rmSync(dir, { recursive: true, force: true });
  });
  const verbs: [string, string[]][] = [
    ['run', ['run', '--', 'true']],
    ['run', ['run', '-d', '--', 'sleep', '1']],
    ['exec', ['exec', 'c', '--', 'true']],
    ['unshare create', ['unshare', 'create', 'process-list']],
    ['mount add', ['mount', 'add', 'c', '--ramfs', '/x']],
    ['mount copy', ['mount', 'copy', 'c', '/', 'd', '/y']],
    ['expose', ['expose', 'c', dir]],
  ];
  for (const [verb, args] of verbs) {
    const r = await asNobody(args);
    t.equal(r.status, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stderr, new RegExp(`^fusejail: ${verb} needs root: it [^\\n]+ \\(there is no rootless mode yet\\); run it as root [^\\n]+\\n$`), `${verb}: one line saying what and why`);
  }
  t.notOk(existsSync(join(state, 'supervisor.sock')), 'no supervisor was started');
  t.same(existsSync(state) ? readdirSync(state) : [], [], 'nothing was made in the state directory');
  const ls = await asNobody(['ls']);
  t.equal(ls.status, 0, `ls works: ${ls.stderr}`);
  t.match(ls.stdout, /^NAME\s+STATUS/);
});
