// Only the named verb's module is loaded; --version is answered before yargs is.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { VERBS, verbsFor } from '../../../src/cli/verbs.js';
import { fusejail, repo } from '../../helpers/fuse.js';

t.test('the verb on the command line, or every verb (for --help and mistakes)', async (t) => {
  t.same(verbsFor(['ls']), ['ls']);
  t.same(verbsFor(['run', '-t', '--', 'sh']), ['run']);
  t.same(verbsFor(['--help']), Object.keys(VERBS));
  t.same(verbsFor(['bogus']), Object.keys(VERBS), 'an unknown verb: yargs names it among all of them');
  t.same(verbsFor([]), Object.keys(VERBS));
});

t.test('fusejail --version prints the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  t.equal(execFileSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', fusejail, '--version'], { encoding: 'utf8' }), `${version}\n`);
});
