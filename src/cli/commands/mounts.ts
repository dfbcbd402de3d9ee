// `fusejail mounts CONTAINER [--json]`: a container's mount table, in order.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { MountInfo } from '../../protocol/messages.js';
import { table } from '../table.js';

export const command = 'mounts <container>';
export const describe = 'list a container\'s mount table: target, type, source, read-only; the longest target wins';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', { type: 'string', demandOption: true, describe: 'a container name (or a unique prefix)' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON array' });
}

export async function handler(argv: { container: string; json: boolean }): Promise<void> {
  const connection = await Connection.open({ start: true });
  const list = (await connection.request('mounts', { container: argv.container }).finally(() => connection.close())) as MountInfo[];
  if (argv.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  process.stdout.write(table(['TARGET', 'TYPE', 'MODE', 'SOURCE'], list.map((m) => [m.target, m.type, m.readOnly ? 'ro' : 'rw', m.source ?? ''])));
}
