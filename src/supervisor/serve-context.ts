// The process that serves one VFSRootContext over FUSE until SIGINT/SIGTERM (`fusejail serve`).
import { mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigInvalid, FusejailError, MountTableError, isFusejailError } from '../errors.js';
import { FS_TYPE, isStale, mountedHere, unmount } from '../fuse/mounts.js';
import { FuseServer } from '../fuse/server.js';
import { Subtree } from '../fuse/subtree.js';
import { type MountOp, parseConfig, readConfig } from '../protocol/config.js';
import { ExecPolicy } from '../resources/exec-policy.js';
import { addMount, buildContext } from '../resources/layout.js';
import type { VFSRootContext } from '../resources/vfs-root-context.js';
import type { ControlMessage, ControlRequest, Located } from './control.js';

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

/**
 * NOTE: a server that walks into its own mount hangs forever (fuse-native answers on one thread),
 * whether the source contains a mountpoint of ours or lies inside one. Paths here are real paths.
 */
function sourceProblem(source: string, mountpoints: readonly string[]): string | undefined {
  const under = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
  const contains = mountpoints.find((m) => under(m, source));
  if (contains !== undefined) return `source ${source} contains the mountpoint ${contains}; serve it elsewhere`;
  const inside = mountpoints.find((m) => under(source, m));
  return inside === undefined ? undefined : `source ${source} is inside this context's own root at ${inside}`;
}

/** What the supervisor may ask of a running context (see control.ts); every answer names its input. */
class Control {
  readonly servers: FuseServer[] = [];

  constructor(
    private readonly context: VFSRootContext,
    private readonly fsname: string,
  ) {}

  private check(op: MountOp): void {
    if ('source' in op) {
      const problem = sourceProblem(op.source, this.servers.map((s) => s.mountpoint));
      if (problem) throw new MountTableError('EINVAL', problem);
    }
  }

  async answer(request: ControlRequest): Promise<unknown> {
    switch (request.op) {
      case 'mounts':
        return this.context.mountInfo();
      case 'mount-add':
        this.check(request.mount);
        await addMount(this.context, request.mount);
        return {};
      case 'mount-share': {
        const { mount, inner } = await this.context.locate(request.from);
        const backend = inner === '/' ? mount.backend : new Subtree(mount.backend, inner);
        this.context.addMount({ target: request.target, backend, readOnly: mount.readOnly, origin: { type: 'shared', source: request.from } });
        return {};
      }
      case 'mount-rm':
        this.context.removeMount(request.target);
        return {};
      case 'locate': {
        const { mount, inner } = await this.context.locate(request.path);
        const info = this.context.mountInfo().find((m) => m.target === mount.target)!;
        return { mount: info, inner } satisfies Located;
      }
      case 'expose': {
        // NOTE: checked by name before anything touches it: a look at a directory we serve would
        // be a request to ourselves, never answered. The supervisor sends a real path.
        const ours = this.servers.find((s) => request.dir === s.mountpoint || request.dir.startsWith(`${s.mountpoint}/`));
        if (ours) throw new MountTableError('EBUSY', `mountpoint ${request.dir} is ${request.dir === ours.mountpoint ? 'already' : 'inside'} this root (served at ${ours.mountpoint})`);
        const dir = await prepareMountpoint(request.dir);
        for (const m of this.context.mountInfo()) {
          const problem = m.type === 'bind' || m.type === 'copy' ? sourceProblem(m.source!, [dir]) : undefined;
          if (problem) throw new MountTableError('EINVAL', problem);
        }
        this.servers.push(await FuseServer.mount(this.context, dir, { fsname: this.fsname, cacheSeconds: CACHE_SECONDS }));
        return { dir };
      }
    }
  }
}

/**
 * What to serve: from the command line, or (`--spare`) from the supervisor once it needs a server.
 * NOTE: a spare has paid Node's start and the module loading (~200 ms) before anyone waits.
 */
async function task(): Promise<{ config?: string; mountpoint?: string; mkdir?: boolean }> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, mountpoint: { type: 'string' }, mkdir: { type: 'boolean' }, spare: { type: 'boolean' } } });
  if (!values.spare) return values;
  parseConfig('{"jail":false,"pid-isolation":false,"hostname":null,"layout":[{"type":"root_mount"}]}', 'warm-up');
  const orphaned = () => process.exit(0);
  process.once('disconnect', orphaned);
  const given = await new Promise<{ config: string; mountpoint: string }>((resolve) => process.once('message', resolve));
  process.off('disconnect', orphaned);
  return given;
}

async function main(): Promise<number> {
  const values = await task();
  if (!values.config || !values.mountpoint) throw new ConfigInvalid('usage: serve-context --config FILE --mountpoint DIR');
  const config = readConfig(values.config);
  if (values.mkdir) mkdirSync(values.mountpoint, { recursive: true, mode: 0o755 });
  const mountpoint = await prepareMountpoint(values.mountpoint.replace(/(.)\/+$/, '$1'));
  for (const op of config.layout) {
    const problem = 'source' in op ? sourceProblem(op.source, [mountpoint]) : undefined;
    if (problem) throw new ConfigInvalid(`${values.config}: ${problem}`);
  }
  const policy = new ExecPolicy({ jailed: config.jail, ...(config.execAllow ? { allow: config.execAllow } : {}) });
  const context = await buildContext(1, config.layout, policy);
  const fsname = `fusejail:${values.config}`;
  const control = new Control(context, fsname);
  control.servers.push(await FuseServer.mount(context, mountpoint, { fsname, cacheSeconds: CACHE_SECONDS }));
  // NOTE: started by the supervisor, we have an IPC channel to it: requests come that way,
  // launches go back, and when it dies (the channel closes) we unmount and go too.
  const supervised = process.send !== undefined;
  const send = (message: ControlMessage) => process.connected && process.send!(message);
  context.onLaunch((e) => {
    if (supervised) send({ event: 'launch', launch: e });
    else if (!e.allowed) process.stderr.write(`fusejail: refused launch of ${e.path} by pid ${e.pid} (${e.reason})\n`);
  });
  process.on('message', (request: ControlRequest) => {
    control.answer(request).then(
      (result) => send({ id: request.id, ok: true, result }),
      (err: unknown) => send({ id: request.id, ok: false, error: isFusejailError(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String((err as Error).stack ?? err) } }),
    );
  });
  process.stderr.write(`fusejail: serving ${values.config} at ${mountpoint} (Ctrl-C to stop)\n`);
  // NOTE: Ctrl-C reaches this process twice (the terminal's process group, then the CLI's relay);
  // the handlers stay installed so a repeated signal cannot kill us halfway through unmounting.
  const signal = await new Promise<NodeJS.Signals | 'the supervisor went away'>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => resolve(s));
    if (supervised) process.on('disconnect', () => resolve('the supervisor went away'));
  });
  for (const server of control.servers) {
    await server.unmount();
    process.stderr.write(`fusejail: unmounted ${server.mountpoint} (${signal})\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const error = isFusejailError(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String((err as Error).stack ?? err) };
    process.stderr.write(`fusejail: ${error.message}\n`);
    if (process.connected) process.send!({ event: 'failed', error } satisfies ControlMessage, () => process.exit(1));
    else process.exit(1);
  },
);
