// `fusejail mounts CONTAINER [--json]`: a container's mount table, in order.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { MountInfo } from '../../protocol/messages.js';
import { printList } from '../table.js';
import { containerArgument, jsonOption } from '../arguments.js';

export const command = 'mounts <container>';
export const describe = 'list a container\'s mount table: target, type, source, read-only; the longest target wins';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .option('json', jsonOption);
}

export async function handler(argv: { container: string; json: boolean }): Promise<void> {
  const list = (await Connection.ask('mounts', { container: argv.container })) as MountInfo[];
  printList(argv.json, list, ['TARGET', 'TYPE', 'MODE', 'SOURCE'], (m) => [m.target, m.type, m.readOnly ? 'ro' : 'rw', m.source ?? '']);
}
