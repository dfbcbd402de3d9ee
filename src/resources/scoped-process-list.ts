// ScopedProcessList: a PID namespace whose PID 1 is the launcher's reaping init.
import { ProcessListInit } from '../launcher/process-list-init.js';
import { AttachCount } from './attach-count.js';
import { namespaceIds } from './namespace-ids.js';

export class ScopedProcessList extends AttachCount {
  private constructor(
    readonly index: number,
    private readonly init: ProcessListInit,
  ) {
    super();
  }

  static async create(index: number): Promise<ScopedProcessList> {
    return new ScopedProcessList(index, await ProcessListInit.start());
  }

  /** What a launch joins. */
  get namespacePath(): string {
    return this.init.namespacePath;
  }

  /** The network namespace its containers share (unless they ask for the host's). */
  get networkPath(): string {
    return this.init.networkPath;
  }

  /** The IPC namespace its containers share. */
  get ipcPath(): string {
    return this.init.ipcPath;
  }

  detail(): Record<string, string | number> {
    // NOTE: the namespaces the list owns and its containers share (unless --net host).
    const ids = namespaceIds(this.init.hostPid);
    return { initHostPid: this.init.hostPid, ...(ids.pid ? { pid: ids.pid } : {}), ...(ids.net ? { net: ids.net } : {}), ...(ids.ipc ? { ipc: ids.ipc } : {}) };
  }

  /** Ends every process on the list, then the list. */
  async destroy(): Promise<void> {
    await this.init.stop();
  }
}
