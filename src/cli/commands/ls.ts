// `fusejail ls [--json]`: the containers, running or exited (detached).
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ContainerInfo } from '../../protocol/messages.js';
import { describeLimits, printList } from '../table.js';
import { describeIdMap } from '../../protocol/config.js';
import { jsonOption } from '../arguments.js';

export const command = 'ls';
export const describe = 'list containers: name, status, network, limits, command, resources, user namespace (its host ids)';

export function builder(yargs: Argv) {
  return yargs.option('json', jsonOption);
}

export async function handler(argv: { json: boolean }): Promise<void> {
  const list = (await Connection.ask('ls', {})) as ContainerInfo[];
  // NOTE: new columns come last, so scripts reading the first columns still read them.
  printList(argv.json, list, ['NAME', 'STATUS', 'NETWORK', 'LIMITS', 'COMMAND', 'RESOURCES', 'USER NAMESPACE', 'KIND'], (c) => [
    c.name,
    c.broken ? 'broken (root gone)' : c.status !== 'exited' ? c.status : c.exitStatus !== undefined ? `exited (${c.exitStatus})` : 'exited',
    c.network,
    describeLimits(c.limits),
    c.command.join(' '),
    Object.entries(c.resources).map(([k, v]) => `${k}=${v}`).join(' '),
    c.userns ? describeIdMap(c.userns) : '-',
    c.oci ? `oci ${c.oci.root} ${c.oci.id}` : c.kind,
  ]);
}
