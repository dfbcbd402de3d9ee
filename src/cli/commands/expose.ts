// `fusejail expose CONTAINER HOSTDIR`: the container's root, served at another host directory too.
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { containerArgument } from '../arguments.js';
import { requireRoot } from '../needs-root.js';

export const command = 'expose <container> <hostdir>';
export const describe = 'serve the container\'s root at HOSTDIR too (an existing empty directory), until it is removed';

export function builder(yargs: Argv) {
  return yargs
    .positional('container', containerArgument)
    .positional('hostdir', { type: 'string', demandOption: true, describe: 'an existing empty directory' })
    .epilogue('Both directories show the same files, live. fusermount -u HOSTDIR ends this one early.');
}

export async function handler(argv: { container: string; hostdir: string }): Promise<void> {
  requireRoot('expose', 'mounts a container\'s FUSE root at another host directory');
  const { dir } = (await Connection.ask('expose', { container: argv.container, dir: resolve(argv.hostdir) })) as { dir: string };
  process.stdout.write(`${dir}\n`);
}
