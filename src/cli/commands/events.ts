// `fusejail events CONTAINER [--json]`: what ran in a container, and every launch its root saw.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ContainerEvent } from '../../protocol/messages.js';
import { formatBytes } from '../../resources/cgroup.js';
import { printList } from '../table.js';
import { containerArgument, jsonOption } from '../arguments.js';

export const command = 'events <container>';
export const describe = 'list the processes started and ended in a container, and every launch (execve) its root allowed or refused';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .option('json', jsonOption)
    .epilogue('The last 1000 events, oldest first. Host PIDs throughout; `start` also gives the PID inside.');
}

function what(e: ContainerEvent): string {
  switch (e.kind) {
    case 'start':
      return `${e.command} (pid ${e.containerPid} inside)`;
    case 'exit':
      return `status ${e.status}`;
    case 'ended':
      return 'ended (an OCI container\'s init: its status went to its OCI caller)';
    case 'oom':
      return `killed by the OOM killer${e.limit !== undefined ? ` (limit ${formatBytes(e.limit)})` : ''}`;
    case 'launch':
      return `${e.path} as uid ${e.uid}`;
    case 'refused':
      return `${e.path} as uid ${e.uid}: ${e.reason === 'setuid' ? 'a set-uid/set-gid file in a jailed container' : 'not in the exec_allow list'}`;
    case 'root-lost':
      return e.reason;
  }
}

export async function handler(argv: { container: string; json: boolean }): Promise<void> {
  const list = (await Connection.ask('events', { container: argv.container })) as ContainerEvent[];
  printList(argv.json, list, ['TIME', 'EVENT', 'PID', 'WHAT'], (e) => [new Date(e.time).toISOString(), e.kind, String(e.hostPid), what(e)]);
}
