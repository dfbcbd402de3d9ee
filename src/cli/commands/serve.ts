// `fusejail serve -f CONFIG MOUNTPOINT`: serve a config's layout at a host directory, in the foreground.
import type { Argv } from 'yargs';
import { serve } from '../../client/serve.js';

export const command = 'serve <mountpoint>';
export const describe = "serve a config's layout at MOUNTPOINT in the foreground until SIGINT/SIGTERM";

export function builder(yargs: Argv) {
  return yargs
    .usage('$0 serve -f CONFIG MOUNTPOINT')
    .positional('mountpoint', { type: 'string', demandOption: true, describe: 'an existing empty directory (or use --mkdir)' })
    .option('f', { alias: 'configuration', type: 'string', demandOption: true, describe: 'container config (SerenityOS runc format)' })
    .option('mkdir', { type: 'boolean', default: false, describe: 'create MOUNTPOINT when it does not exist' })
    .epilogue(
      'The layout is served over FUSE exactly as a container would see its root. A stale fusejail ' +
        'mount left by a crashed server is cleared first. Exits 0 after a clean unmount, 1 when the ' +
        'config or the mountpoint is unusable.',
    );
}

export async function handler(argv: { f: string; mkdir: boolean; mountpoint: string }): Promise<void> {
  process.exitCode = await serve({ config: argv.f, mountpoint: argv.mountpoint, mkdir: argv.mkdir });
}
