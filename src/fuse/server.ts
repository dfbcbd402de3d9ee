// Serves a FileTree at a host directory through fuse-native (libfuse 2).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MountFailed, NativeMissing } from '../errors.js';
import { FsError, toErrno } from './errno.js';
import type { Caller, FileTree, Stat } from './file-tree.js';

const require = createRequire(import.meta.url);

// NOTE: the stock fuse-native prebuild passes atime as mtime and tells JS nothing of the caller;
// `make build` compiles fuse-native with native-bindings/fuse-native.patch into build/Release,
// which node-gyp-build prefers. Without it, files would be created owned by the server.
const fuseNativeDir = dirname(require.resolve('fuse-native/package.json'));
if (!existsSync(join(fuseNativeDir, 'build/Release/fuse.node'))) {
  throw new NativeMissing(`fuse-native was not rebuilt with native-bindings/fuse-native.patch: run 'make build'`);
}

type Cb = (code: number, ...values: unknown[]) => void;
type Handler = (nativeHandler: Buffer, opCode: number, ...args: unknown[]) => unknown;

interface FuseNativeInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}

interface FuseNativeClass {
  new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>): FuseNativeInstance;
}

const FuseNative = require('fuse-native') as FuseNativeClass;

/** The process that made the request the main thread is running right now (see fuse-native.patch). */
let current: Caller = { uid: 0, gid: 0, pid: 0 };

export interface MountOptions {
  /** Shown as the source in /proc/mounts; the "fusejail" subtype marks our mounts as ours. */
  fsname: string;
  /** Seconds the kernel may cache names and attributes: the bound on seeing host-side changes. */
  cacheSeconds: number;
}

// NOTE: libfuse 2 options fuse-native has no name for, so the option string is ours:
// - nosuid,nodev: nothing in a container root grants privilege or reaches a host device.
// - default_permissions: the kernel checks modes, as on a local filesystem.
// - allow_other: the container's processes are not the server's user.
// - big_writes,max_write: 128 KiB writes instead of 4 KiB, 32x fewer round trips.
// - auto_cache: page cache kept across opens unless size or mtime changed (host edits show).
// - atomic_o_trunc: O_TRUNC arrives with open instead of as a separate truncate.
// - hard_remove: unlinking an open file does not leave a .fuse_hidden file behind.
// - FUSEJAIL_FUSE_DEBUG=1 in the environment adds libfuse's request trace on stderr.
function optionString(o: MountOptions): string {
  const t = o.cacheSeconds;
  return (
    '-o' +
    [
      ...(process.env.FUSEJAIL_FUSE_DEBUG ? ['debug'] : []),
      'allow_other',
      'default_permissions',
      'nosuid',
      'nodev',
      `fsname=${o.fsname.replace(/[,\\]/g, '_')}`,
      'subtype=fusejail',
      'big_writes',
      'max_write=131072',
      'auto_cache',
      'atomic_o_trunc',
      'hard_remove',
      `entry_timeout=${t}`,
      `attr_timeout=${t}`,
      `negative_timeout=${t}`,
    ].join(',')
  );
}

/** The stat layout fuse-native's C side reads (populate_stat): 32-bit words, 64-bit values split. */
function statArray(st: Stat): Uint32Array {
  const a = new Uint32Array(18);
  const split = (i: number, n: number) => {
    a[i] = n % 0x100000000;
    a[i + 1] = Math.floor(n / 0x100000000);
  };
  a[0] = st.mode;
  a[1] = st.uid;
  a[2] = st.gid;
  split(3, st.size);
  a[5] = 0;
  a[6] = st.nlink;
  a[7] = st.ino;
  a[8] = st.rdev;
  a[9] = 4096;
  split(10, st.blocks);
  split(12, st.atimeMs);
  split(14, st.mtimeMs);
  split(16, st.ctimeMs);
  return a;
}

// NOTE: the patched fuse-native marks an omitted time (UTIME_OMIT) as 2^64-1 milliseconds.
const OMIT = 1.8e19;
const time = (ms: number): number | undefined => (ms >= OMIT ? undefined : ms);

/** A backend error that is not a filesystem answer is a bug: the kernel gets EIO, stderr the stack. */
function failed(err: unknown): number {
  if (!(err instanceof FsError)) process.stderr.write(`fusejail: internal error answered as EIO: ${(err as Error)?.stack ?? String(err)}\n`);
  return toErrno(err);
}

/** Answers the kernel: a handler is total, whatever the tree throws. */
function reply<T>(cb: Cb, work: Promise<T>, map: (v: T) => unknown[] = () => []): void {
  work.then(
    (v) => cb(0, ...map(v)),
    (err) => cb(failed(err)),
  );
}

/** Reads and writes answer with a byte count or a negative errno in the first argument. */
function replyCount(cb: Cb, work: Promise<number>): void {
  work.then(cb, (err) => cb(failed(err)));
}

function operations(tree: FileTree): Record<string, unknown> {
  const caller = (): Caller => current;
  return {
    // Answered by FusejailFuse._op_getattr/_op_fgetattr; present so that fuse-native registers them.
    getattr: true,
    fgetattr: true,
    // NOTE: a directory removed while open has no path any more (""): it lists as empty.
    readdir: (path: string, cb: Cb) =>
      reply(cb, path === '' ? Promise.resolve({ names: [], types: [] }) : tree.readdir(path), (d) => [
        ['.', '..', ...d.names],
        [{ mode: 0o040000 }, { mode: 0o040000 }, ...d.types.map((mode) => ({ mode }))],
      ]),
    readlink: (path: string, cb: Cb) => reply(cb, tree.readlink(path), (t) => [t]),
    open: (path: string, flags: number, cb: Cb) => reply(cb, tree.open(path, flags, caller()), (h) => [h]),
    create: (path: string, mode: number, cb: Cb) => reply(cb, tree.create(path, mode, caller()), (h) => [h]),
    read: (_path: string, fh: number, buf: Buffer, len: number, pos: number, cb: Cb) => replyCount(cb, tree.read(fh, buf, len, pos)),
    write: (_path: string, fh: number, buf: Buffer, len: number, pos: number, cb: Cb) => replyCount(cb, tree.write(fh, buf, len, pos)),
    release: (_path: string, fh: number, cb: Cb) => reply(cb, tree.release(fh)),
    fsync: (_path: string, datasync: number, fh: number, cb: Cb) => reply(cb, tree.fsync(fh, datasync !== 0)),
    truncate: (path: string, size: number, cb: Cb) => reply(cb, tree.truncate(path, size)),
    ftruncate: (_path: string, fh: number, size: number, cb: Cb) => reply(cb, tree.ftruncate(fh, size)),
    mkdir: (path: string, mode: number, cb: Cb) => reply(cb, tree.mkdir(path, mode, caller())),
    mknod: (path: string, mode: number, dev: number, cb: Cb) => reply(cb, tree.mknod(path, mode, dev, caller())),
    symlink: (target: string, path: string, cb: Cb) => reply(cb, tree.symlink(path, target, caller())),
    link: (from: string, to: string, cb: Cb) => reply(cb, tree.link(from, to)),
    unlink: (path: string, cb: Cb) => reply(cb, tree.unlink(path)),
    rmdir: (path: string, cb: Cb) => reply(cb, tree.rmdir(path)),
    rename: (from: string, to: string, cb: Cb) => reply(cb, tree.rename(from, to)),
    chmod: (path: string, mode: number, cb: Cb) => reply(cb, tree.chmod(path, mode)),
    chown: (path: string, uid: number, gid: number, cb: Cb) => reply(cb, tree.chown(path, uid, gid)),
    utimens: (path: string, atime: number, mtime: number, cb: Cb) => reply(cb, tree.utimens(path, time(atime), time(mtime))),
    statfs: (_path: string, cb: Cb) =>
      reply(cb, tree.statfs(), (s) => {
        // NOTE: fuse-native carries statfs fields as 32-bit integers; a large disk is described in
        // larger fragments so that its block counts fit.
        let scale = 1;
        while (Math.max(s.blocks, s.files) / scale > 0xffffffff) scale *= 2;
        const frsize = s.bsize * scale;
        return [
          {
            bsize: frsize,
            frsize,
            blocks: Math.floor(s.blocks / scale),
            bfree: Math.floor(s.bfree / scale),
            bavail: Math.floor(s.bavail / scale),
            files: Math.min(s.files, 0xffffffff),
            ffree: Math.min(s.ffree, 0xffffffff),
            favail: Math.min(s.ffree, 0xffffffff),
            fsid: 0,
            flag: 0,
            namemax: s.namemax,
          },
        ];
      }),
  };
}

class FusejailFuse extends (FuseNative as unknown as new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>) => FuseNativeInstance & Record<string, unknown>) {
  constructor(
    mnt: string,
    private readonly tree: FileTree,
    private readonly optionText: string,
  ) {
    super(mnt, operations(tree), { timeout: false });
  }

  _fuseOptions(): string {
    return this.optionText;
  }

  // NOTE: stat answers are built straight into the layout the C side reads, skipping
  // fuse-native's per-call object conversion on the most frequent operation.
  _op_getattr(signal: (code: number, stat?: Uint32Array) => void, path: string): void {
    this.tree.getattr(path).then(
      (st) => signal(0, statArray(st)),
      (err) => signal(failed(err)),
    );
  }

  // NOTE: fuse-native answers fgetattr with the path-based getattr; an open file (unlinked,
  // perhaps) must be asked through its handle.
  _op_fgetattr(signal: (code: number, stat?: Uint32Array) => void, _path: string, fh: number): void {
    this.tree.fgetattr(fh).then(
      (st) => signal(0, statArray(st)),
      (err) => signal(failed(err)),
    );
  }

  // NOTE: called by fuse-native's constructor; wraps each op so the caller recorded by the
  // patched binding (uid, gid, pid at offset 0 of the thread-locals buffer) is known to the op.
  _makeHandlerArray(): Handler[] {
    const handlers = (FuseNative.prototype as unknown as { _makeHandlerArray(this: unknown): Handler[] })._makeHandlerArray.call(this);
    return handlers.map(
      (handler) =>
        handler &&
        ((nativeHandler: Buffer, opCode: number, ...args: unknown[]) => {
          current = { uid: nativeHandler.readUInt32LE(0), gid: nativeHandler.readUInt32LE(4), pid: nativeHandler.readUInt32LE(8) };
          return handler(nativeHandler, opCode, ...args);
        }),
    );
  }
}

export class FuseServer {
  private constructor(
    readonly mountpoint: string,
    private readonly fuse: FuseNativeInstance,
  ) {}

  static async mount(tree: FileTree, mountpoint: string, options: MountOptions): Promise<FuseServer> {
    const fuse = new FusejailFuse(mountpoint, tree, optionString(options));
    await new Promise<void>((resolve, reject) =>
      fuse.mount((err) => (err ? reject(new MountFailed(`cannot mount FUSE at ${mountpoint}: ${err.message}`, { cause: err })) : resolve())),
    );
    return new FuseServer(mountpoint, fuse);
  }

  async unmount(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.fuse.unmount((err) => (err ? reject(new MountFailed(`cannot unmount ${this.mountpoint}: ${err.message}`, { cause: err })) : resolve())),
    );
  }
}
