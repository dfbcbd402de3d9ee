// `fusejail hostname CONTAINER [NEW]`: print, or change, a container's hostname.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { containerArgument } from '../arguments.js';

export const command = 'hostname <container> [new]';
export const describe = 'print a container\'s hostname, or change it for every process attached to its hostname context';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .positional('new', { type: 'string', describe: 'the new hostname (at most 64 bytes: letters, digits, "-", ".")' });
}

export async function handler(argv: { container: string; new?: string }): Promise<void> {
  const { hostname } = (await Connection.ask('hostname', { container: argv.container, ...(argv.new !== undefined ? { set: argv.new } : {}) })) as { hostname: string };
  if (argv.new === undefined) process.stdout.write(`${hostname}\n`);
}
