// docs/cli.md and docs/config.schema.json must be what the code makes of itself (`make docs`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cliReference, schemaReference } from '../../../src/cli/reference.js';
import { repo } from '../../helpers/fuse.js';

const committed = (name: string) => readFileSync(join(repo, 'docs', name), 'utf8');

t.test('docs/cli.md is the CLI\'s own help, every command and subcommand', async (t) => {
  const made = await cliReference();
  t.equal(committed('cli.md'), made, 'docs/cli.md is out of date: run make docs');
  for (const command of ['run', 'exec', 'mount add', 'mount copy', 'unshare create', 'daemon']) t.match(made, `## \`fusejail ${command}\``);
});

t.test('docs/config.schema.json is the schema configs are validated with', async (t) => {
  t.equal(committed('config.schema.json'), schemaReference(), 'docs/config.schema.json is out of date: run make docs');
  t.equal(JSON.parse(committed('config.schema.json')).required.join(','), 'jail,pid-isolation,hostname,layout');
});
