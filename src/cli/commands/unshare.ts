// `fusejail unshare create TYPE`: SerenityOS's unshare_create; prints the new resource's index.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { RESOURCE_TYPES, type ResourceType } from '../../protocol/messages.js';
import { CONTAINER_WORK, requireRoot } from '../needs-root.js';

export const command = 'unshare create <type>';
export const describe = 'create a process list, VFS root context or hostname context, unattached; print its index';

export function builder(yargs: Argv) {
  return yargs
    .positional('type', { choices: Object.keys(RESOURCE_TYPES), demandOption: true, describe: 'the kind of resource' })
    .epilogue(
      'Indices increase per type and are never reused. A new vfs-context is an empty in-memory root ' +
        'served at <state>/vfs/N/root; a new hostname-context starts with the host\'s name. Jailed ' +
        'processes are refused (EPERM).',
    );
}

export async function handler(argv: { type: string }): Promise<void> {
  requireRoot('unshare create', CONTAINER_WORK);
  const { index } = (await Connection.ask('create', { type: argv.type as ResourceType })) as { index: number };
  process.stdout.write(`${index}\n`);
}
