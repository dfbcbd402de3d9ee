// `fusejail run [-f CONFIG] [options] [--] [COMMAND [ARG...]]`: a container, attached.
import type { Argv } from 'yargs';
import { attach, runDetached } from '../../client/run.js';
import { processSpec, userShell } from '../process-spec.js';
import { parseConfig, readText } from '../../protocol/config.js';
import { defaultConfig } from '../../protocol/default-config.js';

export const command = 'run [command..]';
export const describe = 'run a command (by default the user\'s shell) in a new container, attached; exits with its status';

export function builder(yargs: Argv) {
  return yargs
    .usage('$0 run [-f CONFIG] [options] [--] [COMMAND [ARG...]]')
    .positional('command', { type: 'string', array: true, describe: 'what to run (default: the config\'s command, or your shell)' })
    .option('f', { alias: 'configuration', type: 'string', describe: 'container config (SerenityOS runc format); without it, the embedded default' })
    .option('t', { type: 'boolean', describe: 'give the container a terminal and put yours in raw mode' })
    .option('d', { alias: 'detach', type: 'boolean', describe: 'start it, print its name and leave it running (fusejail rm removes it)' })
    .option('name', { type: 'string', describe: 'name the container (default: 8 random hex digits)' })
    .conflicts('d', 't')
    .option('hostname', { type: 'string', describe: 'a new hostname context with this name' })
    .option('e', { alias: 'env', type: 'string', array: true, default: [], describe: 'set K=V in the environment (repeatable)' })
    .option('E', { alias: 'preserve-env', type: 'boolean', default: false, describe: 'keep this environment (otherwise only TERM, PATH, HOME)' })
    .option('w', { alias: 'workdir', type: 'string', describe: 'working directory inside the container' })
    .option('p', { alias: 'pid-isolation', type: 'boolean', describe: 'a new process list (the default has one; --no-pid-isolation shares the host\'s, said loudly)' })
    .option('j', { alias: 'enforce-jail', type: 'boolean', describe: 'jail the container (the default is jailed; for runc compatibility)' })
    .option('jail', { type: 'boolean', describe: '--no-jail: do not jail it (said loudly on stderr)' })
    .epilogue(
      'The embedded default: the host\'s /usr, /bin, /lib*, /etc read-only (its shadow, gshadow, sudoers and ' +
        'SSH host keys hidden), RAM filesystems at /tmp, /root and /home, a new process list, hostname ' +
        '"fusejail", jailed. Exit status: the command\'s; 125 when fusejail failed, 126 when the command ' +
        'cannot be executed, 127 when it is not found.',
    );
}

interface RunArgs {
  f?: string;
  t?: boolean;
  d?: boolean;
  name?: string;
  hostname?: string;
  e: string[];
  E: boolean;
  w?: string;
  p?: boolean;
  j?: boolean;
  jail?: boolean;
  command?: string[];
  _: (string | number)[];
}

export async function handler(argv: RunArgs): Promise<void> {
  // NOTE: gather everything, validate it whole (errors name the file), then ask the supervisor.
  // NOTE: a file is read once and validated before anything is taken from it, so a bad one gets
  // the error that names it; the raw object then carries the flags to the supervisor.
  let raw: Record<string, unknown> = defaultConfig(userShell());
  if (argv.f) {
    const text = readText(argv.f);
    parseConfig(text, argv.f);
    raw = JSON.parse(text) as Record<string, unknown>;
  }
  const file = argv.f ?? 'the embedded default';
  if (argv.hostname !== undefined) raw.hostname = argv.hostname;
  // NOTE: yargs reads --no-jail as jail=false and --no-pid-isolation as p=false.
  if (argv.j) raw.jail = true;
  if (argv.p) raw['pid-isolation'] = true;
  if (argv.jail === false) {
    raw.jail = false;
    process.stderr.write('fusejail: WARNING: --no-jail: this container may create namespaces, mount, and gain privileges through set-uid programs\n');
  }
  if (argv.p === false) {
    raw['pid-isolation'] = false;
    process.stderr.write('fusejail: WARNING: --no-pid-isolation: this container sees and can signal every process of the host\n');
  }
  const config = parseConfig(JSON.stringify(raw), file);
  // NOTE: words after "--" stay in yargs' `_`, after the verb.
  const words = [...(argv.command ?? []), ...argv._.slice(1).map(String)];
  const proc = processSpec({ command: words.length > 0 ? words : [...(config.command ?? [userShell()])], env: argv.e, preserveEnv: argv.E, config, workdir: argv.w });
  const name = argv.name !== undefined ? { name: argv.name } : {};
  if (argv.d) {
    const started = await runDetached({ config: raw, process: proc, ...name });
    process.stdout.write(`${started.name}\n`);
    return;
  }
  process.exitCode = await attach({ op: 'run', config: raw, process: proc, tty: argv.t === true, ...name });
}
