// examples/default.json is the embedded default written out; both must stay one config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseConfig } from '../../../src/protocol/config.js';
import { defaultConfig } from '../../../src/protocol/default-config.js';
import { repo } from '../../helpers/fuse.js';

const file = join(repo, 'examples/default.json');
const written = JSON.parse(readFileSync(file, 'utf8')) as { layout: { type: string; path?: string }[] };
const embedded = defaultConfig() as typeof written;

// NOTE: the default follows the host's /bin, /lib* layout and hides any extra SSH host key it has;
// the file was written on Debian 12 (merged /usr, amd64, the standard keys).
const hostSpecific = (c: typeof written) => c.layout.filter((e) => e.type === 'symlink' || /^\/(s?bin|lib)/.test((e as { target?: string }).target ?? '') || e.path?.startsWith('/etc/ssh/'));
const sameHost = JSON.stringify(hostSpecific(written)) === JSON.stringify(hostSpecific(embedded));

t.test('examples/default.json is a valid config', async (t) => {
  const c = parseConfig(readFileSync(file, 'utf8'), file);
  t.equal(c.jail, true);
  t.equal(c.pidIsolation, true);
  t.equal(c.command, undefined, 'no command: the command line\'s runs, or the user\'s shell');
});

t.test('examples/default.json is the embedded default', { skip: sameHost ? false : 'this host\'s /bin, /lib* or SSH host keys differ from the Debian 12 host the file was written on' }, async (t) => {
  t.same(written, embedded);
});
