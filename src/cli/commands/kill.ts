// `fusejail kill CONTAINER [SIGNAL]`: signal a container's first process.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { containerArgument } from '../arguments.js';

export const command = 'kill <container> [signal]';
export const describe = 'send a signal (default SIGTERM) to a container\'s first process';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .positional('signal', { type: 'string', default: 'SIGTERM', describe: 'a signal name: TERM, SIGKILL, HUP, …' });
}

export async function handler(argv: { container: string; signal: string }): Promise<void> {
  const signal = argv.signal.toUpperCase().startsWith('SIG') ? argv.signal.toUpperCase() : `SIG${argv.signal.toUpperCase()}`;
  await Connection.ask('kill', { container: argv.container, signal });
}
