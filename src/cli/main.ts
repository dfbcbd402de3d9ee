// The fusejail command line: parses, dispatches to one module per verb, maps errors to exit codes.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isFusejailError } from '../errors.js';
import * as daemon from './commands/daemon.js';
import * as events from './commands/events.js';
import * as exec from './commands/exec.js';
import * as expose from './commands/expose.js';
import * as hostname from './commands/hostname.js';
import * as kill from './commands/kill.js';
import * as ls from './commands/ls.js';
import * as mount from './commands/mount.js';
import * as mounts from './commands/mounts.js';
import * as ps from './commands/ps.js';
import * as rm from './commands/rm.js';
import * as root from './commands/root.js';
import * as resources from './commands/resources.js';
import * as run from './commands/run.js';
import * as serve from './commands/serve.js';
import * as unshare from './commands/unshare.js';

/** fusejail itself failed (DESIGN §4). */
const EXIT_INTERNAL = 125;

export function cli(args: string[]) {
  return yargs(args)
    .scriptName('fusejail')
    .usage('$0 <command> [options]\n\nSerenityOS-style containers on Linux, with roots served over FUSE.')
    .command(run)
    .command(exec)
    .command(ls)
    .command(ps)
    .command(kill)
    .command(rm)
    .command(root)
    .command(hostname)
    .command(mounts)
    .command(mount)
    .command(expose)
    .command(events)
    .command(serve)
    .command(unshare)
    .command(resources)
    .command(daemon)
    .demandCommand(1, 'name a command; see fusejail --help')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, err) => {
      if (err) throw err;
      process.stderr.write(`fusejail: ${message}\n(see fusejail --help)\n`);
      process.exit(1);
    });
}

cli(hideBin(process.argv))
  .parseAsync()
  .catch((err: unknown) => {
    process.stderr.write(`fusejail: ${isFusejailError(err) ? err.message : ((err as Error).stack ?? String(err))}\n`);
    // NOTE: the caller's mistake (bad input, a refusal) is 1; fusejail itself failing is 125.
    const callerError = isFusejailError(err) && ['CONFIG_INVALID', 'EPERM', 'EINVAL', 'ENOENT', 'EBUSY', 'ENODEV', 'EEXIST', 'STATE_DIR_REFUSED', 'MOUNTPOINT_UNUSABLE', 'BAD_WORKDIR', 'NEEDS_ROOT'].includes(err.code);
    process.exitCode = callerError ? 1 : EXIT_INTERNAL;
  });
