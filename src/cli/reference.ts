// The reference documents, made from the code so they cannot drift from it: docs/cli.md from the
// CLI's own --help, docs/config.schema.json from the schema configs are validated with.
// `make docs` writes them; a test checks the committed ones are what this makes.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { configSchema } from '../protocol/config-schema.js';

const repo = resolve(import.meta.dirname, '../..');
const program = join(repo, 'bin/fusejail');

async function help(words: string[]): Promise<string> {
  // NOTE: on a pipe the CLI wraps at 100 columns, so the text does not depend on a terminal.
  // NOTE: through env(1), so no NODE_OPTIONS of the caller (a test runner's loaders) reach the CLI.
  const { stdout } = await promisify(execFile)('/usr/bin/env', ['-u', 'NODE_OPTIONS', program, ...words, '--help']);
  return stdout;
}

/** The commands a help text lists, as words: "fusejail mount add <container>" gives ["mount", "add"]. */
function subcommands(text: string): string[][] {
  const section = text.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('  fusejail '))
    .map((line) => {
      const usage = line.trim().split(/\s{2,}/)[0]!.split(' ').slice(1);
      const firstArgument = usage.findIndex((w) => /^[<[]/.test(w));
      return firstArgument < 0 ? usage : usage.slice(0, firstArgument);
    });
}

export async function cliReference(): Promise<string> {
  const sections: string[] = [];
  const visit = async (words: string[]) => {
    const text = await help(words);
    sections.push(`## \`fusejail${words.map((w) => ` ${w}`).join('')}\`\n\n\`\`\`text\n${text.trimEnd()}\n\`\`\`\n`);
    for (const sub of subcommands(text)) await visit(sub);
  };
  await visit([]);
  return `# fusejail command line\n\nMade by \`make docs\` from the CLI's own \`--help\`; a test fails when it differs.\n\n${sections.join('\n')}`;
}

export const schemaReference = (): string => `${JSON.stringify(configSchema, null, 2)}\n`;

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  writeFileSync(join(repo, 'docs/cli.md'), await cliReference());
  writeFileSync(join(repo, 'docs/config.schema.json'), schemaReference());
}
