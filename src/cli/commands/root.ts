// `fusejail root CONTAINER`: the host directory that serves a container's root.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { containerArgument } from '../arguments.js';

export const command = 'root <container>';
export const describe = 'print the host directory that serves the container\'s root';

export function builder(yargs: Argv) {
  return yargs.positional('container', containerArgument);
}

export async function handler(argv: { container: string }): Promise<void> {
  const { root } = (await Connection.ask('root', { container: argv.container })) as { root: string };
  process.stdout.write(`${root}\n`);
}
