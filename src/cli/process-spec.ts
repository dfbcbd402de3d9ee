// The process a run or an exec starts: argv, environment, working directory, user.
import { readFileSync } from 'node:fs';
import { ConfigInvalid } from '../errors.js';
import type { ContainerConfig } from '../protocol/config.js';
import type { ProcessSpec } from '../protocol/messages.js';

type User = { uid: number; gid: number };

/** Rows of a host database (/etc/passwd, /etc/group), split on ":". */
function rows(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function userShell(uid = process.getuid?.() ?? 0): string {
  return rows('/etc/passwd').find((r) => r[2] === String(uid))?.[6] || '/bin/sh';
}

/**
 * `-u UID[:GID]` or `-u NAME[:GROUP]` (names from the host's databases); without it, the config's
 * `user`, else the user who ran sudo (DESIGN §4), else root.
 */
export function chooseUser(flag: string | undefined, config?: ContainerConfig): User {
  if (flag !== undefined) {
    const [u, g, ...rest] = flag.split(':');
    const passwd = rows('/etc/passwd').find((r) => r[0] === u || (/^\d+$/.test(u!) && r[2] === u));
    const uid = /^\d+$/.test(u!) ? Number(u) : passwd ? Number(passwd[2]) : NaN;
    if (!u || rest.length > 0 || Number.isNaN(uid)) throw new ConfigInvalid(`-u ${JSON.stringify(flag)}: expected UID[:GID] or a user name known on the host`);
    if (g === undefined) return { uid, gid: passwd ? Number(passwd[3]) : uid };
    const group = rows('/etc/group').find((r) => r[0] === g);
    const gid = /^\d+$/.test(g) ? Number(g) : group ? Number(group[2]) : NaN;
    if (Number.isNaN(gid)) throw new ConfigInvalid(`-u ${JSON.stringify(flag)}: no group ${JSON.stringify(g)} on the host`);
    return { uid, gid };
  }
  if (config?.user) return { uid: config.user.uid, gid: config.user.gid ?? config.user.uid };
  const sudo = process.getuid?.() === 0 && process.env.SUDO_UID && process.env.SUDO_GID;
  return sudo ? { uid: Number(process.env.SUDO_UID), gid: Number(process.env.SUDO_GID) } : { uid: 0, gid: 0 };
}

/** The environment is TERM, PATH and HOME only, unless `preserveEnv` (runc's -E); then the config's and -e's. */
export function processSpec(o: { command: string[]; env: string[]; preserveEnv: boolean; config?: ContainerConfig; workdir?: string; user?: User }): ProcessSpec {
  const base = o.preserveEnv
    ? Object.entries(process.env).map(([k, v]) => `${k}=${v}`)
    : [`TERM=${process.env.TERM ?? 'xterm'}`, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'];
  const env = [...base, ...Object.entries(o.config?.env ?? {}).map(([k, v]) => `${k}=${v}`), ...o.env];
  if (o.workdir !== undefined && (!o.workdir.startsWith('/') || o.workdir.includes('\0'))) {
    throw new ConfigInvalid(`-w ${JSON.stringify(o.workdir)}: must be an absolute path in the container`);
  }
  const user = o.user ?? chooseUser(undefined, o.config);
  return { argv: o.command, env, cwd: o.workdir ?? o.config?.cwd ?? '/', user: { uid: user.uid, gid: user.gid, groups: [] } };
}
