// `fusejail resources [--json]`: every live resource with its index and users.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ResourceInfo } from '../../protocol/messages.js';

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
  const header = ['TYPE', 'INDEX', 'USERS', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) process.stdout.write(`${row.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')}\n`);
}
