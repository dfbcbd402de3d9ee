// The process that serves one VFSRootContext over FUSE until SIGINT/SIGTERM (`fusejail serve`).
import { mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigInvalid, FusejailError, isFusejailError } from '../errors.js';
import { FS_TYPE, isStale, mountedHere, unmount } from '../fuse/mounts.js';
import { FuseServer } from '../fuse/server.js';
import { readConfig } from '../protocol/config.js';
import { ExecPolicy } from '../resources/exec-policy.js';
import { buildContext } from '../resources/layout.js';

/** How late a host-side change to a bind source may be seen through the mount. */
export const CACHE_SECONDS = 1;

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

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, mountpoint: { type: 'string' }, mkdir: { type: 'boolean' }, 'exit-with-stdin': { type: 'boolean' } } });
  if (!values.config || !values.mountpoint) throw new ConfigInvalid('usage: serve-context --config FILE --mountpoint DIR');
  const config = readConfig(values.config);
  if (values.mkdir) mkdirSync(values.mountpoint, { recursive: true, mode: 0o755 });
  const mountpoint = await prepareMountpoint(values.mountpoint.replace(/(.)\/+$/, '$1'));
  for (const op of config.layout) {
    // NOTE: serving a source that contains our own mountpoint would make the server walk into its
    // own mount, and fuse-native answers on this one thread: it would hang forever.
    if ('source' in op && (mountpoint === op.source || mountpoint.startsWith(op.source === '/' ? '/' : `${op.source}/`))) {
      throw new ConfigInvalid(`${values.config}: source ${op.source} contains the mountpoint ${mountpoint}; serve it elsewhere`);
    }
  }
  const policy = new ExecPolicy({ jailed: config.jail, ...(config.execAllow ? { allow: config.execAllow } : {}) });
  const context = await buildContext(1, config.layout, policy);
  context.onLaunch((e) => {
    if (!e.allowed) process.stderr.write(`fusejail: refused launch of ${e.path} by pid ${e.pid} (${e.reason})\n`);
  });
  const server = await FuseServer.mount(context, mountpoint, { fsname: `fusejail:${values.config}`, cacheSeconds: CACHE_SECONDS });
  process.stderr.write(`fusejail: serving ${values.config} at ${mountpoint} (Ctrl-C to stop)\n`);
  // NOTE: Ctrl-C reaches this process twice (the terminal's process group, then the CLI's relay);
  // the handlers stay installed so a repeated signal cannot kill us halfway through unmounting.
  const signal = await new Promise<NodeJS.Signals | 'stdin closed'>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => resolve(s));
    // NOTE: run by the supervisor, stdin is a pipe from it: when it dies, we unmount and go too.
    if (values['exit-with-stdin']) {
      process.stdin.on('end', () => resolve('stdin closed')).resume();
    }
  });
  await server.unmount();
  process.stderr.write(`fusejail: unmounted ${mountpoint} (${signal})\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fusejail: ${isFusejailError(err) ? err.message : (err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
