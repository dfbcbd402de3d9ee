// Who is at the other end of a Unix socket: native-bindings/peer-credentials.c (SO_PEERCRED).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NativeMissing } from '../errors.js';

const addonPath = fileURLToPath(new URL('../../build/native/peer-credentials.node', import.meta.url));

let addon: { peerCredentials(fd: number): [pid: number, uid: number, gid: number] | number } | undefined;

/** The peer's pid, uid and gid, or undefined when the descriptor is not a connected Unix socket. */
export function peerCredentials(fd: number): { pid: number; uid: number; gid: number } | undefined {
  try {
    addon ??= createRequire(import.meta.url)(addonPath) as NonNullable<typeof addon>;
  } catch (cause) {
    throw new NativeMissing(`cannot load ${addonPath}: run 'make build' first`, { cause });
  }
  const cred = addon.peerCredentials(fd);
  return typeof cred === 'number' ? undefined : { pid: cred[0], uid: cred[1], gid: cred[2] };
}
