// `fusejail root CONTAINER`: the host directory that serves a container's root.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { FusejailError } from '../../errors.js';
import type { ContainerInfo } from '../../protocol/messages.js';

export const command = 'root <container>';
export const describe = 'print the host directory that serves the container\'s root';

export function builder(yargs: Argv) {
  return yargs.positional('container', { type: 'string', demandOption: true, describe: 'a container name (or a unique prefix)' });
}

export async function handler(argv: { container: string }): Promise<void> {
  const list = (await Connection.ask('ls', {})) as ContainerInfo[];
  const matches = list.filter((c) => c.name === argv.container || c.name.startsWith(argv.container));
  const found = matches.find((c) => c.name === argv.container) ?? (matches.length === 1 ? matches[0] : undefined);
  if (!found) throw new FusejailError('ENOENT', `no container named ${JSON.stringify(argv.container)}`);
  process.stdout.write(`${found.root}\n`);
}
