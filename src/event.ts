// Typed events for lower layers to report upward without knowing who listens (node-pty style).

export interface IDisposable {
  dispose(): void;
}

export type IEvent<T> = (listener: (value: T) => void) => IDisposable;

export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();

  readonly event: IEvent<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of this.listeners) listener(value);
  }
}
