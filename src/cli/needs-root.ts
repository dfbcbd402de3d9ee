// Verbs that make containers need root until a rootless mode exists: said in one line, before anything starts.
import { FusejailError } from '../errors.js';

export class NeedsRoot extends FusejailError {
  constructor(verb: string, why: string) {
    super('NEEDS_ROOT', `${verb} needs root: it ${why}, which an ordinary user cannot do (there is no rootless mode yet); run it as root (sudo fusejail ${verb} …)`);
  }
}

/** Throws NeedsRoot when this process is not root; `why` says what the verb does that needs it. */
export function requireRoot(verb: string, why: string): void {
  if (process.getuid?.() !== 0) throw new NeedsRoot(verb, why);
}

/** What making or entering a container does. */
export const CONTAINER_WORK = 'mounts a FUSE root and creates namespaces';
