// SerenityOS's attach count: how many processes use a resource; it never goes below zero.
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
}
