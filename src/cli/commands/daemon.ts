// `fusejail daemon [--foreground | --stop]`: start, run or stop the supervisor.
import type { Argv } from 'yargs';
import { Connection, SupervisorUnavailable, runSupervisorInForeground } from '../../client/connection.js';
import { socketPath, stateDir } from '../../protocol/state-dir.js';

export const command = 'daemon';
export const describe = 'start the supervisor in the background (other commands do this on demand), run it in the foreground, or stop it';

export function builder(yargs: Argv) {
  return yargs
    .option('foreground', { type: 'boolean', describe: 'run the supervisor in this terminal until SIGINT/SIGTERM' })
    .option('stop', { type: 'boolean', describe: 'tear down every resource and stop the supervisor (refused while OCI containers are registered)' })
    .option('force', { type: 'boolean', describe: 'with --stop: stop even while OCI containers are registered, unmounting their roots under them' })
    .conflicts('foreground', 'stop')
    .epilogue('State lives in /run/fusejail (root), $XDG_RUNTIME_DIR/fusejail otherwise, or $FUSEJAIL_STATE_DIR.');
}

export async function handler(argv: { foreground?: boolean; stop?: boolean; force?: boolean }): Promise<void> {
  if (argv.foreground) {
    process.exitCode = await runSupervisorInForeground();
    return;
  }
  if (argv.stop) {
    let connection: Connection;
    try {
      connection = await Connection.open({ start: false });
    } catch (err) {
      if (!(err instanceof SupervisorUnavailable)) throw err;
      process.stdout.write(`no supervisor is running for ${stateDir()}\n`);
      return;
    }
    try {
      await connection.request('shutdown', argv.force ? { force: true } : {});
    } finally {
      connection.close();
    }
    process.stdout.write('supervisor stopped\n');
    return;
  }
  (await Connection.open({ start: true })).close();
  process.stdout.write(`supervisor running on ${socketPath(stateDir())}\n`);
}
