// What a VFSRootContext lets execve(2) load: the FUSE layer of the jail.
import { S_ISGID, S_ISUID, type Stat } from '../fuse/file-tree.js';

export interface ExecPolicyOptions {
  jailed: boolean;
  /** When set (jailed only), the absolute paths that may be executed; anything else is refused. */
  allow?: readonly string[];
}

export type ExecDecision = { allowed: true } | { allowed: false; reason: 'setuid' | 'not-allowed' };

export class ExecPolicy {
  private readonly allow: ReadonlySet<string> | undefined;

  constructor(private readonly options: ExecPolicyOptions) {
    this.allow = options.allow ? new Set(options.allow) : undefined;
  }

  get jailed(): boolean {
    return this.options.jailed;
  }

  decide(path: string, stat: Stat): ExecDecision {
    if (!this.options.jailed) return { allowed: true };
    // NOTE: no_new_privs already stops the kernel from honouring set-uid bits; refusing the launch
    // here too makes the attempt visible in the events instead of silently running unprivileged.
    if (stat.mode & (S_ISUID | S_ISGID)) return { allowed: false, reason: 'setuid' };
    if (this.allow && !this.allow.has(path)) return { allowed: false, reason: 'not-allowed' };
    return { allowed: true };
  }
}
