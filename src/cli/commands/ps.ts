// `fusejail ps CONTAINER [--json]`: the processes of a container, with host and container PIDs.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ProcessInfo } from '../../protocol/messages.js';
import { table } from '../table.js';

export const command = 'ps <container>';
export const describe = 'list the processes of a container: PID inside, PID on the host, command';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', { type: 'string', demandOption: true, describe: 'a container name (or a unique prefix)' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON array' });
}

export async function handler(argv: { container: string; json: boolean }): Promise<void> {
  const connection = await Connection.open({ start: true });
  const list = (await connection.request('ps', { container: argv.container }).finally(() => connection.close())) as ProcessInfo[];
  if (argv.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  process.stdout.write(table(['PID', 'HOST PID', 'COMMAND'], list.map((p) => [String(p.containerPid), String(p.hostPid), p.command])));
}
