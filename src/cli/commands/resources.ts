// `fusejail resources [--json]`: every live resource with its index and users.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ResourceInfo } from '../../protocol/messages.js';
import { table } from '../table.js';

export const command = 'resources';
export const describe = 'list every live resource: type (SerenityOS number), index, users, where it lives';

export function builder(yargs: Argv) {
  return yargs.option('json', { type: 'boolean', default: false, describe: 'print a JSON array' });
}

export async function handler(argv: { json: boolean }): Promise<void> {
  const connection = await Connection.open({ start: true });
  let list: ResourceInfo[];
  try {
    list = (await connection.request('resources', {})) as ResourceInfo[];
  } finally {
    connection.close();
  }
  if (argv.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  const rows = list.map((r) => [`${r.type} (${r.typeNumber})`, String(r.index), String(r.users), Object.entries(r.detail).map(([k, v]) => `${k}=${v}`).join(' ')]);
  process.stdout.write(table(['TYPE', 'INDEX', 'USERS', 'DETAIL'], rows));
}
