// `fusejail stats CONTAINER [--json]`: memory, CPU time and processes of a container, against its limits.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import type { ContainerStats } from '../../protocol/messages.js';
import { formatBytes } from '../../resources/cgroup.js';
import { table } from '../table.js';
import { containerArgument, jsonOption } from '../arguments.js';

export const command = 'stats <container>';
export const describe = 'show a container\'s memory, CPU time and process count, against its limits';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .option('json', jsonOption)
    .epilogue('From the container\'s cgroup (v1 or v2). --json: memory in bytes, cpuMicros in microseconds of CPU time.');
}

const or = (value: string | undefined, none: string) => value ?? none;
const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

export async function handler(argv: { container: string; json: boolean }): Promise<void> {
  const s = (await Connection.ask('stats', { container: argv.container })) as ContainerStats;
  if (argv.json) return void process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  const l = s.limits;
  process.stdout.write(
    table(['RESOURCE', 'USED', 'LIMIT'], [
      ['memory', or(mib(s.memory), '-'), l.memory !== undefined ? formatBytes(l.memory) : 'none'],
      ['cpu time', or(s.cpuMicros === undefined ? undefined : `${(s.cpuMicros / 1e6).toFixed(2)} s`, '-'), l.cpus !== undefined ? `${l.cpus} CPUs` : 'none'],
      ['processes', or(s.processes?.toString(), '-'), or(l.maxProcesses?.toString(), 'none')],
      ...(s.oomKills ? [['oom kills', String(s.oomKills), '']] : []),
    ]),
  );
}
