// The process a run or an exec starts: argv, environment, working directory, user.
import { readFileSync } from 'node:fs';
import type { ContainerConfig } from '../protocol/config.js';
import type { ProcessSpec } from '../protocol/messages.js';

export function userShell(): string {
  const uid = process.getuid?.() ?? 0;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
  return line?.split(':')[6] || '/bin/sh';
}

/** The environment is TERM, PATH and HOME only, unless `preserveEnv` (runc's -E); then the config's and -e's. */
export function processSpec(o: { command: string[]; env: string[]; preserveEnv: boolean; config?: ContainerConfig; workdir?: string }): ProcessSpec {
  const base = o.preserveEnv
    ? Object.entries(process.env).map(([k, v]) => `${k}=${v}`)
    : [`TERM=${process.env.TERM ?? 'xterm'}`, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'];
  const env = [...base, ...Object.entries(o.config?.env ?? {}).map(([k, v]) => `${k}=${v}`), ...o.env];
  const user = o.config?.user ?? { uid: 0, gid: 0 };
  return { argv: o.command, env, cwd: o.workdir ?? o.config?.cwd ?? '/', user: { uid: user.uid, gid: user.gid ?? user.uid, groups: [] } };
}
