// `fusejail exec [-t] [-i] [-e K=V]... [-w DIR] CONTAINER -- COMMAND [ARG...]`: another process in a container.
import type { Argv } from 'yargs';
import { attach } from '../../client/run.js';
import { FusejailError } from '../../errors.js';
import { processSpec } from '../process-spec.js';
import { containerArgument, traceOption } from '../arguments.js';
import { startTrace } from '../../client/trace.js';
import { requireRoot } from '../needs-root.js';

export const command = 'exec <container> [command..]';
export const describe = 'run another command in a running container, attached to its resources; exits with its status';

export function builder(yargs: Argv) {
  return yargs
    .usage('$0 exec [-t] [-i] [-e K=V]... [-w DIR] CONTAINER -- COMMAND [ARG...]')
    .positional('container', containerArgument)
    .positional('command', { type: 'string', array: true, describe: 'what to run' })
    .option('t', { type: 'boolean', default: false, describe: 'give it a terminal and put yours in raw mode (implies -i)' })
    .option('i', { alias: 'interactive', type: 'boolean', default: false, describe: 'pass your stdin to the command (without it, the command reads end-of-file)' })
    .option('e', { alias: 'env', type: 'string', array: true, default: [], describe: 'set K=V in the environment (repeatable)' })
    .option('E', { alias: 'preserve-env', type: 'boolean', default: false, describe: 'keep this environment (otherwise only TERM, PATH, HOME)' })
    .option('w', { alias: 'workdir', type: 'string', describe: 'working directory inside the container' })
    .option('trace', traceOption)
    .epilogue('It shares the container\'s root, process list, hostname and jail. Exit status as for run.');
}

export async function handler(argv: { container: string; command?: string[]; t: boolean; i: boolean; e: string[]; E: boolean; w?: string; trace?: boolean; _: (string | number)[] }): Promise<void> {
  const trace = startTrace(argv.trace);
  requireRoot('exec', 'enters a container\'s namespaces');
  const words = [...(argv.command ?? []), ...argv._.slice(1).map(String)];
  if (words.length === 0) throw new FusejailError('EINVAL', 'exec needs a COMMAND after the container (fusejail exec NAME -- COMMAND)');
  const proc = processSpec({ command: words, env: argv.e, preserveEnv: argv.E, ...(argv.w ? { workdir: argv.w } : {}) });
  trace?.mark('cli: validation');
  process.exitCode = await attach({ op: 'exec', container: argv.container, process: proc, tty: argv.t, interactive: argv.t || argv.i, workdirFlag: argv.w !== undefined }, trace);
}
