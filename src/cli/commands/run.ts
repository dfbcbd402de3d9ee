// `fusejail run [-f CONFIG] [options] [--] [COMMAND [ARG...]]`: a container, attached.
import type { Argv } from 'yargs';
import { attach as attachTo, runDetached } from '../../client/run.js';
import type { ResourceType } from '../../protocol/messages.js';
import { ConfigInvalid } from '../../errors.js';
import { layoutEntry, parseBind, parseCopy, parseRamfs } from '../mount-spec.js';
import { chooseUser, processSpec, userShell } from '../process-spec.js';
import { outsideUserNamespace, parseConfig, parseCpus, parseNetwork, parsePublish, parseSize, readText } from '../../protocol/config.js';
import { defaultConfig } from '../../protocol/default-config.js';
import { CONTAINER_WORK, requireRoot } from '../needs-root.js';
import { traceOption } from '../arguments.js';
import { printTrace, startTrace } from '../../client/trace.js';

export const command = 'run [command..]';
export const describe = 'run a command (by default the user\'s shell) in a new container, attached; exits with its status';

export function builder(yargs: Argv) {
  return yargs
    .usage('$0 run [-f CONFIG] [options] [--] [COMMAND [ARG...]]')
    .positional('command', { type: 'string', array: true, describe: 'what to run (default: the config\'s command, or your shell)' })
    .option('f', { alias: 'configuration', type: 'string', describe: 'container config (SerenityOS runc format, see docs/config.md); without it, the embedded default (examples/default.json)' })
    .option('t', { type: 'boolean', describe: 'give the container a terminal and put yours in raw mode (implies -i)' })
    .option('i', { alias: 'interactive', type: 'boolean', describe: 'pass your stdin to the command (without it, the command reads end-of-file)' })
    .option('d', { alias: 'detach', type: 'boolean', describe: 'start it, print its name and leave it running (fusejail rm removes it)' })
    .option('name', { type: 'string', describe: 'name the container (default: 8 random hex digits)' })
    .conflicts('d', ['t', 'i'])
    .option('hostname', { type: 'string', describe: 'a new hostname context with this name' })
    .option('bind', { type: 'string', array: true, describe: 'SRC:DST[:ro] — mount the host path SRC at DST (repeatable)' })
    .option('ramfs', { type: 'string', array: true, describe: 'DST — an empty RAM filesystem at DST (repeatable)' })
    .option('copy', { type: 'string', array: true, describe: 'SRC:DST — a private copy of the host path SRC at DST, copied on first write (repeatable)' })
    .option('u', { alias: 'user', type: 'string', describe: 'UID[:GID] or NAME[:GROUP] to run as (default: the config\'s user, else the user who ran sudo, else root)' })
    .option('max-processes', { type: 'number', describe: 'at most N processes in the container at once (a pids cgroup; default 4096)' })
    .option('memory', { type: 'string', describe: 'a memory limit: BYTES, or a number with a k, M or G suffix (64M); above it the OOM killer ends the container\'s processes (exit 137)' })
    .option('cpus', { type: 'string', describe: 'a CPU limit in CPUs, fractions allowed (0.5: half of one CPU\'s time)' })
    .option('net', { type: 'string', describe: 'none: a network namespace with only lo (the default when jailed, as the embedded default is); host: the host\'s network (said loudly when jailed); private: a namespace of its own with user-mode NAT through pasta (outbound TCP/UDP, DNS; the host\'s loopback at the gateway address); container:NAME: the network of running container NAME, when both are on one process list (--process-list N)' })
    .option('publish', { type: 'string', array: true, describe: 'HOST_PORT:CONTAINER_PORT[/udp] — with --net private, forward a host port to one inside (repeatable)' })
    .option('userns', { type: 'boolean', describe: 'a user namespace: container uids/gids 0-65535 are the host range of "fusejail" in /etc/subuid and /etc/subgid (make deps adds it), so container root is not host root; --no-userns: none (config user_namespace)' })
    .option('vfs-context', { type: 'number', describe: 'attach to VFS root context N instead of making a root from the config\'s layout' })
    .option('process-list', { type: 'number', describe: 'attach to process list N instead of a new one' })
    .option('hostname-context', { type: 'number', describe: 'attach to hostname context N instead of a new one' })
    .conflicts('vfs-context', ['bind', 'ramfs', 'copy'])
    .conflicts('hostname-context', 'hostname')
    .option('e', { alias: 'env', type: 'string', array: true, default: [], describe: 'set K=V in the environment (repeatable)' })
    .option('E', { alias: 'preserve-env', type: 'boolean', default: false, describe: 'keep your environment (otherwise only TERM, PATH and HOME=/root); the config\'s env and -e are added either way' })
    .option('w', { alias: 'workdir', type: 'string', describe: 'working directory inside the container' })
    .option('p', { alias: 'pid-isolation', type: 'boolean', describe: 'a new process list (the default has one; --no-pid-isolation shares the host\'s, said loudly)' })
    .option('j', { alias: 'enforce-jail', type: 'boolean', describe: 'jail the container (the default is jailed; for runc compatibility)' })
    .option('jail', { type: 'boolean', describe: '--no-jail: do not jail it (said loudly on stderr)' })
    .option('trace', traceOption)
    .epilogue(
      'With --vfs-context N the root is that context\'s, as it is; the config\'s layout is not used. ' +
        'The embedded default: the host\'s /usr, /bin, /lib*, /etc read-only (its shadow, gshadow, sudoers and ' +
        'SSH host keys hidden), RAM filesystems at /tmp, /root and /home, a new process list, hostname ' +
        '"fusejail", jailed, no network (--net none: only lo; --net host gives the host\'s). Exit status: the command\'s; 125 when fusejail failed, 126 when the command ' +
        'cannot be executed, 127 when it is not found.',
    );
}

interface RunArgs {
  f?: string;
  t?: boolean;
  i?: boolean;
  bind?: string[];
  ramfs?: string[];
  copy?: string[];
  u?: string;
  maxProcesses?: number;
  net?: string;
  publish?: string[];
  userns?: boolean;
  memory?: string;
  cpus?: string;
  vfsContext?: number;
  processList?: number;
  hostnameContext?: number;
  d?: boolean;
  name?: string;
  hostname?: string;
  e: string[];
  E: boolean;
  w?: string;
  p?: boolean;
  j?: boolean;
  jail?: boolean;
  trace?: boolean;
  command?: string[];
  _: (string | number)[];
}

export async function handler(argv: RunArgs): Promise<void> {
  const trace = startTrace(argv.trace);
  requireRoot('run', CONTAINER_WORK);
  // NOTE: gather everything, validate it whole (errors name the file), then ask the supervisor.
  // NOTE: a file is read once and validated before anything is taken from it, so a bad one gets
  // the error that names it; the raw object then carries the flags to the supervisor.
  let raw: Record<string, unknown> = defaultConfig();
  if (argv.f) {
    const text = readText(argv.f);
    parseConfig(text, argv.f);
    raw = JSON.parse(text) as Record<string, unknown>;
  }
  const file = argv.f ?? 'the embedded default';
  if (argv.processList !== undefined && argv.p === false) throw new ConfigInvalid('--process-list and --no-pid-isolation contradict each other');
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
  // NOTE: mounts from flags come after the config's, so they win where targets nest.
  const mounts = [...(argv.bind ?? []).map(parseBind), ...(argv.ramfs ?? []).map(parseRamfs), ...(argv.copy ?? []).map(parseCopy)];
  if (mounts.length > 0) raw.layout = [...((raw.layout as unknown[]) ?? []), ...mounts.map(layoutEntry)];
  if (argv.maxProcesses !== undefined) {
    if (!Number.isSafeInteger(argv.maxProcesses) || argv.maxProcesses < 1) throw new ConfigInvalid(`--max-processes ${argv.maxProcesses}: expected a positive whole number`);
    raw.max_processes = argv.maxProcesses;
  }
  if (argv.memory !== undefined) {
    const bytes = parseSize(argv.memory);
    if (typeof bytes === 'object') throw new ConfigInvalid(`--memory ${JSON.stringify(argv.memory)}: ${bytes.problem}`);
    raw.memory = bytes;
  }
  if (argv.cpus !== undefined) {
    const cpus = parseCpus(argv.cpus);
    if (typeof cpus === 'object') throw new ConfigInvalid(`--cpus ${JSON.stringify(argv.cpus)}: ${cpus.problem}`);
    raw.cpus = cpus;
  }
  if (argv.net !== undefined) {
    const network = parseNetwork(argv.net);
    if ('problem' in network) throw new ConfigInvalid(`--net ${JSON.stringify(argv.net)}: ${network.problem}`);
    raw.network = argv.net;
  }
  if (argv.publish !== undefined) {
    for (const p of argv.publish) {
      const port = parsePublish(p);
      if ('problem' in port) throw new ConfigInvalid(`--publish ${JSON.stringify(p)}: ${port.problem}`);
    }
    if (raw.network !== 'private') throw new ConfigInvalid('--publish needs --net private');
    raw.publish = [...((raw.publish as string[] | undefined) ?? []), ...argv.publish];
  }
  if (argv.userns !== undefined) raw.user_namespace = argv.userns;
  const attach = { 'vfs-context': argv.vfsContext, 'process-list': argv.processList, 'hostname-context': argv.hostnameContext };
  for (const [type, index] of Object.entries(attach)) {
    if (index !== undefined && (!Number.isSafeInteger(index) || index < 1)) throw new ConfigInvalid(`--${type} ${index}: expected an index (a positive whole number)`);
    if (index === undefined) delete attach[type as keyof typeof attach];
  }
  const config = parseConfig(JSON.stringify(raw), file);
  if (config.jail && config.network.mode === 'host') {
    process.stderr.write('fusejail: WARNING: network "host": this jailed container shares the host\'s network: it can reach every service of the host, its abstract Unix sockets included\n');
  }
  // NOTE: words after "--" stay in yargs' `_`, after the verb.
  const words = [...(argv.command ?? []), ...argv._.slice(1).map(String)];
  const user = chooseUser(argv.u, config);
  const outside = config.userNamespace ? outsideUserNamespace(user) : undefined;
  if (outside) throw new ConfigInvalid(`${argv.u !== undefined ? `-u ${JSON.stringify(argv.u)}` : `user ${user.uid}:${user.gid}`}: ${outside} (a user namespace)`);
  const command = words.length > 0 ? words : [...(config.command ?? [userShell(user.uid)])];
  const proc = processSpec({ command, env: argv.e, preserveEnv: argv.E, config, workdir: argv.w, user });
  const request = { config: raw, process: proc, attach: attach as Partial<Record<ResourceType, number>>, ...(argv.name !== undefined ? { name: argv.name } : {}) };
  trace?.mark('cli: validation');
  if (argv.d) {
    const started = await runDetached(request, trace);
    process.stdout.write(`${started.name}\n`);
    printTrace(trace);
    return;
  }
  process.exitCode = await attachTo({ op: 'run', ...request, tty: argv.t === true, interactive: argv.t === true || argv.i === true, workdirFlag: argv.w !== undefined }, trace);
}
