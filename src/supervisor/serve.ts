// `fusejail serve`: one VFSRootContext's layout served at a host directory, in the foreground.
import { mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ContextServer } from '../context-server/server.js';
import { ConfigInvalid, FusejailError, isFusejailError } from '../errors.js';
import { FS_TYPE, isStale, mountedHere, unmount } from '../host/mounts.js';
import { readConfig } from '../protocol/config.js';
import { tableOf } from '../resources/layout.js';

class MountpointUnusable extends FusejailError {
  constructor(message: string) {
    super('MOUNTPOINT_UNUSABLE', message);
  }
}

/** Refuses a mountpoint that is missing, not a directory, in use, or not empty; clears a stale one of ours. */
async function prepareMountpoint(mountpoint: string): Promise<string> {
  const mounted = mountedHere(mountpoint);
  if (mounted) {
    if (mounted.fsType === FS_TYPE && isStale(mountpoint)) {
      await unmount(mountpoint);
      process.stderr.write(`fusejail: cleared a stale fusejail mount at ${mountpoint}\n`);
    } else {
      throw new MountpointUnusable(`mountpoint ${mountpoint} is in use (${mounted.fsType} is mounted there)`);
    }
  }
  let st;
  try {
    st = statSync(mountpoint);
  } catch {
    throw new MountpointUnusable(`mountpoint ${mountpoint} does not exist`);
  }
  if (!st.isDirectory()) throw new MountpointUnusable(`mountpoint ${mountpoint} is not a directory`);
  if (readdirSync(mountpoint).length > 0) throw new MountpointUnusable(`mountpoint ${mountpoint} is not empty`);
  return realpathSync(mountpoint);
}

/**
 * NOTE: a server must never look up a path through a mount it serves (the request would come
 * back to it), so a source that contains the mountpoint, or lies inside it, is refused by name.
 */
function sourceProblem(source: string, mountpoint: string): string | undefined {
  const under = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
  if (under(mountpoint, source)) return `source ${source} contains the mountpoint ${mountpoint}; serve it elsewhere`;
  return under(source, mountpoint) ? `source ${source} is inside the mountpoint ${mountpoint}` : undefined;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, mountpoint: { type: 'string' }, mkdir: { type: 'boolean' } } });
  if (!values.config || !values.mountpoint) throw new ConfigInvalid('usage: serve --config FILE --mountpoint DIR [--mkdir]');
  const config = readConfig(values.config);
  if (values.mkdir) mkdirSync(values.mountpoint, { recursive: true, mode: 0o755 });
  const mountpoint = await prepareMountpoint(values.mountpoint.replace(/(.)\/+$/, '$1'));
  for (const op of config.layout) {
    const problem = 'source' in op ? sourceProblem(op.source, mountpoint) : undefined;
    if (problem) throw new ConfigInvalid(`${values.config}: ${problem}`);
  }
  const server = await ContextServer.start(
    { mountpoint, fsname: `fusejail:${values.config}`, table: tableOf(config.layout), exec: { jailed: config.jail, allow: config.execAllow ?? null } },
  );
  server.onLaunch((e) => !e.allowed && process.stderr.write(`fusejail: refused launch of ${e.path} by pid ${e.pid} (${e.reason})\n`));
  process.stderr.write(`fusejail: serving ${values.config} at ${mountpoint} (Ctrl-C to stop)\n`);
  // NOTE: Ctrl-C reaches this process twice (the terminal's process group, then the CLI's relay);
  // the handlers stay installed so a repeated signal cannot cut the unmount short.
  const why = await new Promise<string>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => resolve(s));
    void server.exited.then(() => resolve('the server exited'));
  });
  await server.stop();
  process.stderr.write(`fusejail: unmounted ${mountpoint} (${why})\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fusejail: ${isFusejailError(err) ? err.message : String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  },
);
