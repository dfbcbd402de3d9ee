// SerenityOS's attach count: how many processes use a resource, and how many containers refer to it;
// neither goes below zero.
export abstract class AttachCount {
  private attached = 0;

  get users(): number {
    return this.attached;
  }

  /** A process joined it; `detach` when it is gone. */
  attach(): void {
    this.attached++;
  }

  detach(): void {
    this.attached = Math.max(0, this.attached - 1);
  }

  private holders = 0;

  /** A container refers to it (as its own, or attached by index); `release` when it no longer does. */
  hold(): void {
    this.holders++;
  }

  /** True when no container refers to it any more. */
  release(): boolean {
    this.holders = Math.max(0, this.holders - 1);
    return this.holders === 0;
  }
}
