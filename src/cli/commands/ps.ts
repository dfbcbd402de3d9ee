// `fusejail ps CONTAINER [--json]`: the processes of a container, with host and container PIDs.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ProcessInfo } from '../../protocol/messages.js';
import { describeLimits, printList } from '../table.js';
import { describeIdMap } from '../../protocol/config.js';
import { containerArgument, jsonOption } from '../arguments.js';

export const command = 'ps <container>';
export const describe = 'list the processes of a container: PID inside, PID on the host, network and IPC namespaces, command; its limits and user namespace';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .option('json', jsonOption);
}

export async function handler(argv: { container: string; json: boolean }): Promise<void> {
  const list = (await Connection.ask('ps', { container: argv.container })) as ProcessInfo[];
  if (!argv.json && list[0]?.limits) process.stdout.write(`limits: ${describeLimits(list[0].limits)}\n`);
  // NOTE: ids inside 0 to 65535 are these host ids; without a user namespace they are the host's own.
  const inside = list.find((p) => p.userns);
  if (!argv.json && inside?.userns) process.stdout.write(`user namespace: ${inside.namespaces?.user ?? '-'}, ids 0-${inside.userns.size - 1} are host ${describeIdMap(inside.userns)}\n`);
  printList(argv.json, list, ['PID', 'HOST PID', 'NET', 'IPC', 'COMMAND'], (p) => [String(p.containerPid), String(p.hostPid), p.namespaces?.net ?? '-', p.namespaces?.ipc ?? '-', p.command]);
}
