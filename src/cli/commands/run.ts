// `fusejail run [-f CONFIG] [options] [--] [COMMAND [ARG...]]`: a container, attached.
import type { Argv } from 'yargs';
import { run } from '../../client/run.js';
import { parseConfig, readConfig } from '../../protocol/config.js';
import { defaultConfig } from '../../protocol/default-config.js';
import { readFileSync } from 'node:fs';

export const command = 'run [command..]';
export const describe = 'run a command (by default the user\'s shell) in a new container, attached; exits with its status';

export function builder(yargs: Argv) {
  return yargs
    .usage('$0 run [-f CONFIG] [options] [--] [COMMAND [ARG...]]')
    .positional('command', { type: 'string', array: true, describe: 'what to run (default: the config\'s command, or your shell)' })
    .option('f', { alias: 'configuration', type: 'string', describe: 'container config (SerenityOS runc format); without it, the embedded default' })
    .option('t', { type: 'boolean', default: false, describe: 'give the container a terminal and put yours in raw mode' })
    .option('hostname', { type: 'string', describe: 'a new hostname context with this name' })
    .option('e', { alias: 'env', type: 'string', array: true, default: [], describe: 'set K=V in the environment (repeatable)' })
    .option('E', { alias: 'preserve-env', type: 'boolean', default: false, describe: 'keep this environment (otherwise only TERM, PATH, HOME)' })
    .option('w', { alias: 'workdir', type: 'string', describe: 'working directory inside the container' })
    .option('p', { alias: 'pid-isolation', type: 'boolean', describe: 'a new process list (the default already has one; for runc compatibility)' })
    .option('j', { alias: 'enforce-jail', type: 'boolean', describe: 'jail the container (the default already is; for runc compatibility)' })
    .option('no-jail', { type: 'boolean', default: false, describe: 'do not jail (said loudly on stderr)' })
    .option('no-pid-isolation', { type: 'boolean', default: false, describe: 'share the host\'s process list (said loudly on stderr)' })
    .epilogue(
      'The embedded default: the host\'s /usr, /bin, /lib*, /etc read-only (its shadow, gshadow, sudoers and ' +
        'SSH host keys hidden), RAM filesystems at /tmp, /root and /home, a new process list, hostname ' +
        '"fusejail", jailed. Exit status: the command\'s; 125 when fusejail failed, 126 when the command ' +
        'cannot be executed, 127 when it is not found.',
    );
}

interface RunArgs {
  f?: string;
  t: boolean;
  hostname?: string;
  e: string[];
  E: boolean;
  w?: string;
  p?: boolean;
  j?: boolean;
  noJail: boolean;
  noPidIsolation: boolean;
  command?: string[];
  _: (string | number)[];
}

function userShell(): string {
  const uid = process.getuid?.() ?? 0;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
  return line?.split(':')[6] || '/bin/sh';
}

export async function handler(argv: RunArgs): Promise<void> {
  // NOTE: gather everything, validate it whole (errors name the file), then ask the supervisor.
  const raw: Record<string, unknown> = argv.f ? JSON.parse(readFileSync(argv.f, 'utf8')) : defaultConfig(userShell());
  const file = argv.f ?? 'the embedded default';
  if (argv.f) readConfig(argv.f);
  if (argv.hostname !== undefined) raw.hostname = argv.hostname;
  if (argv.j) raw.jail = true;
  if (argv.p) raw['pid-isolation'] = true;
  if (argv.noJail) {
    raw.jail = false;
    process.stderr.write('fusejail: WARNING: --no-jail: this container may create namespaces, mount, and gain privileges through set-uid programs\n');
  }
  if (argv.noPidIsolation) {
    raw['pid-isolation'] = false;
    process.stderr.write('fusejail: WARNING: --no-pid-isolation: this container sees and can signal every process of the host\n');
  }
  const config = parseConfig(JSON.stringify(raw), file);
  // NOTE: words after "--" stay in yargs' `_`, after the verb.
  const words = [...(argv.command ?? []), ...argv._.slice(1).map(String)];
  const argvCommand = words.length > 0 ? words : (config.command ?? [userShell()]);
  const base = argv.E ? Object.entries(process.env).map(([k, v]) => `${k}=${v}`) : [`TERM=${process.env.TERM ?? 'xterm'}`, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'];
  const env = [...base, ...Object.entries(config.env).map(([k, v]) => `${k}=${v}`), ...argv.e];
  const user = config.user ?? { uid: 0, gid: 0 };
  process.exitCode = await run({
    config: raw,
    process: { argv: [...argvCommand], env, cwd: argv.w ?? config.cwd ?? '/', user: { uid: user.uid, gid: user.gid ?? user.uid, groups: [] } },
    tty: argv.t,
  });
}
