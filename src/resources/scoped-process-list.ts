// ScopedProcessList: a PID namespace whose PID 1 is the launcher's reaping init.
import { ProcessListInit } from '../launcher/process-list-init.js';

export class ScopedProcessList {
  private attached = 0;

  private constructor(
    readonly index: number,
    private readonly init: ProcessListInit,
  ) {}

  static async create(index: number): Promise<ScopedProcessList> {
    return new ScopedProcessList(index, await ProcessListInit.start());
  }

  get users(): number {
    return this.attached;
  }

  /** A process joined it (SerenityOS's attach); `detach` when it is gone. Counts never go below 0. */
  attach(): void {
    this.attached++;
  }

  detach(): void {
    this.attached = Math.max(0, this.attached - 1);
  }

  /** What a launch joins. */
  get namespacePath(): string {
    return this.init.namespacePath;
  }

  detail(): Record<string, string | number> {
    return { initHostPid: this.init.hostPid };
  }

  /** Ends every process on the list, then the list. */
  async destroy(): Promise<void> {
    await this.init.stop();
  }
}
