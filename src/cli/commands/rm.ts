// `fusejail rm [-f] CONTAINER`: remove a container, leaving no mount, pin or process.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { containerArgument, traceOption } from '../arguments.js';
import { printTrace, startTrace } from '../../client/trace.js';

export const command = 'rm <container>';
export const describe = 'remove a container and release its resources (a running one, or one whose files another container mounts, only with -f)';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .option('f', { alias: 'force', type: 'boolean', default: false, describe: 'kill what still runs first' })
    .option('trace', traceOption);
}

export async function handler(argv: { container: string; f: boolean; trace?: boolean }): Promise<void> {
  const trace = startTrace(argv.trace);
  await Connection.ask('rm', { container: argv.container, force: argv.f }, trace);
  printTrace(trace);
}
