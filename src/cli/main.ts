// The fusejail command line: parses, dispatches to one module per verb, maps errors to exit codes.
import * as nodeModule from 'node:module';
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { VERBS, verbsFor } from './verbs.js';

// NOTE: the CLI's start is most of a short run's time, so only the verb's modules are loaded
// (imported below, after this), and Node's on-disk compile cache is used where Node has it
// (22.1 and later; absent on older Node, where nothing happens).
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/** fusejail itself failed (DESIGN §4). */
const EXIT_INTERNAL = 125;

type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };

/**
 * NOTE: yargs (18) renders the whole help text as it starts a command, only to cache it for a
 * failure's message, which our .fail() never prints: about 60 ms of CPU in every run. Where that
 * internal exists it is skipped; --help renders its text itself, unaffected.
 */
function skipHelpCache(parser: Argv): void {
  const usage = (parser as unknown as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => {};
}

export async function cli(args: string[]): Promise<Argv> {
  const [{ default: yargs }, verbs] = await Promise.all([import('yargs'), Promise.all(verbsFor(args).map((name) => VERBS[name]!()))]);
  const parser = yargs(args)
    .scriptName('fusejail')
    .usage('$0 <command> [options]\n\nSerenityOS-style containers on Linux, with roots served over FUSE.');
  for (const verb of verbs) parser.command(verb as CommandModule);
  skipHelpCache(parser);
  return parser
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

async function main(args: string[]): Promise<void> {
  // NOTE: answered before yargs or any verb is loaded.
  if (args.length === 1 && args[0] === '--version') {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${version}\n`);
    return;
  }
  await (await cli(args)).parseAsync();
}

main(process.argv.slice(2)).catch(async (err: unknown) => {
  const { isFusejailError } = await import('../errors.js');
  process.stderr.write(`fusejail: ${isFusejailError(err) ? err.message : ((err as Error).stack ?? String(err))}\n`);
  // NOTE: the caller's mistake (bad input, a refusal) is 1; fusejail itself failing is 125.
  const callerError = isFusejailError(err) && ['CONFIG_INVALID', 'EPERM', 'EINVAL', 'ENOENT', 'EBUSY', 'ENODEV', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST', 'STATE_DIR_REFUSED', 'MOUNTPOINT_UNUSABLE', 'BAD_WORKDIR', 'NEEDS_ROOT'].includes(err.code);
  process.exitCode = callerError ? 1 : EXIT_INTERNAL;
});
