// HostnameContext: a UTS namespace pinned on the host, shared by every process attached to it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pinHostname, pinnedHostname, unpinHostname } from '../launcher/hostname-pin.js';
import { AttachCount } from './attach-count.js';
import { namespaceId } from './namespace-ids.js';

export class HostnameContext extends AttachCount {
  private constructor(
    readonly index: number,
    /** The pinned nsfs file a launch joins. */
    readonly path: string,
    private readonly initialName: string,
  ) {
    super();
  }

  /** A new context starts with `hostname`; its processes may rename it (if not jailed). */
  static async create(index: number, directory: string, hostname: string): Promise<HostnameContext> {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, `uts-${index}`);
    await pinHostname(path, hostname);
    return new HostnameContext(index, path, hostname);
  }

  detail(): Record<string, string | number> {
    const uts = namespaceId(this.path);
    return { pin: this.path, createdAs: this.initialName, ...(uts ? { uts } : {}) };
  }

  /** What every process attached to it sees (and, with `name`, will see from now on). */
  hostname(name?: string): Promise<string> {
    return pinnedHostname(this.path, name);
  }

  async destroy(): Promise<void> {
    await unpinHostname(this.path);
  }
}
