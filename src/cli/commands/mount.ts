// `fusejail mount add|rm|copy`: edit a running container's mount table; seen at once inside it.
import type { Argv } from 'yargs';
import { Connection } from '../../client/connection.js';
import { ConfigInvalid } from '../../errors.js';
import { parseBind, parseRamfs } from '../mount-spec.js';
import { containerArgument } from '../arguments.js';
import { requireRoot } from '../needs-root.js';

const EDITS_ROOTS = 'changes a container\'s FUSE root';

const add = {
  command: 'add <container>',
  describe: 'mount a host path (--bind) or a new RAM filesystem (--ramfs) into a running container',
  builder: (yargs: Argv) =>
    yargs
      .positional('container', containerArgument)
      .option('bind', { type: 'string', describe: 'SRC:DST[:ro] — the host path SRC at DST (read-only with :ro)' })
      .option('ramfs', { type: 'string', describe: 'DST — an empty RAM filesystem at DST' })
      .conflicts('bind', 'ramfs')
      .epilogue('DST must be an absolute canonical path. A target already mounted on is refused (EBUSY).'),
  handler: async (argv: { container: string; bind?: string; ramfs?: string }) => {
    requireRoot('mount add', EDITS_ROOTS);
    if (argv.bind === undefined && argv.ramfs === undefined) throw new ConfigInvalid('mount add: give --bind SRC:DST[:ro] or --ramfs DST');
    const mount = argv.bind !== undefined ? parseBind(argv.bind) : parseRamfs(argv.ramfs!);
    await Connection.ask('mount-add', { container: argv.container, mount });
  },
};

const rm = {
  command: 'rm <container> <target>',
  describe: 'unmount TARGET from a running container (ENODEV when nothing is mounted there)',
  builder: (yargs: Argv) => yargs.positional('container', containerArgument).positional('target', { type: 'string', demandOption: true, describe: 'the mount\'s target path' }),
  handler: async (argv: { container: string; target: string }) => {
    requireRoot('mount rm', EDITS_ROOTS);
    await Connection.ask('mount-rm', { container: argv.container, target: argv.target });
  },
};

const copy = {
  command: 'copy <src-container> <src-path> <dst-container> <dst-path>',
  describe: 'mount the same live files SRC_PATH of one container at DST_PATH of another (or the same) one',
  builder: (yargs: Argv) =>
    yargs
      .positional('src-container', containerArgument)
      .positional('src-path', { type: 'string', demandOption: true, describe: 'a directory or file in its root' })
      .positional('dst-container', containerArgument)
      .positional('dst-path', { type: 'string', demandOption: true, describe: 'where it appears' })
      .epilogue(
        'SerenityOS\'s copy_mount: nothing is copied; both see every change. Files the source ' +
          'holds in memory are reached through its root, so the source cannot be removed while ' +
          'the copy is mounted (unless rm -f, which unmounts the copy first).',
      ),
  handler: async (argv: { srcContainer: string; srcPath: string; dstContainer: string; dstPath: string }) => {
    requireRoot('mount copy', EDITS_ROOTS);
    await Connection.ask('mount-copy', { from: { container: argv.srcContainer, path: argv.srcPath }, to: { container: argv.dstContainer, path: argv.dstPath } });
  },
};

export const command = 'mount <action>';
export const describe = 'add, remove or copy a mount of a running container';

export function builder(yargs: Argv) {
  return yargs.command(add).command(rm).command(copy).demandCommand(1, 'name an action: add, rm or copy');
}

export function handler(): void {}
