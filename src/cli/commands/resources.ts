// `fusejail resources [--json]`: every live resource with its index and users.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ResourceInfo } from '../../protocol/messages.js';
import { printList } from '../table.js';
import { jsonOption } from '../arguments.js';

export const command = 'resources';
export const describe = 'list every live resource: type (SerenityOS number), index, users, where it lives';

export function builder(yargs: Argv) {
  return yargs.option('json', jsonOption);
}

export async function handler(argv: { json: boolean }): Promise<void> {
  const list = (await Connection.ask('resources', {})) as ResourceInfo[];
  printList(argv.json, list, ['TYPE', 'INDEX', 'USERS', 'DETAIL'], (r) => [`${r.type} (${r.typeNumber})`, String(r.index), String(r.users), Object.entries(r.detail).map(([k, v]) => `${k}=${v}`).join(' ')]);
}
