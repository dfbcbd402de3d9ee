// The global lists of resources, addressed by index, as SerenityOS's kernel keeps them.

export interface Resource {
  readonly index: number;
  /** Processes attached to it. */
  readonly users: number;
  attach(): void;
  detach(): void;
  hold(): void;
  release(): boolean;
  detail(): Record<string, string | number>;
  /** Releases what it holds on the host (processes, mounts, pins). */
  destroy(): Promise<void>;
}

/** One type's list: indices increase from 1 and are never reused, even after removal. */
export class ResourceList<T extends Resource> {
  private readonly items = new Map<number, T>();
  private last = 0;

  /** Reserves the next index before the resource exists, so a failed creation still uses it up. */
  async create(make: (index: number) => Promise<T>): Promise<T> {
    const index = ++this.last;
    const item = await make(index);
    this.items.set(index, item);
    return item;
  }

  forIndex(index: number): T | undefined {
    return this.items.get(index);
  }

  remove(index: number): T | undefined {
    const item = this.items.get(index);
    this.items.delete(index);
    return item;
  }

  all(): T[] {
    return [...this.items.values()];
  }
}
