// The end marker the launcher writes behind a payload's output on a terminal, and its removal.
import { randomBytes } from 'node:crypto';

const ESC = 0x1b;

/**
 * Everything before the marker is the payload's (see drain_terminal in native-bindings/launcher/
 * main.c); the marker itself is cut out of what callers see. Only a tail that could be the start
 * of the marker is held back, so interactive output is not delayed.
 */
export class EndMarker {
  readonly nonce = randomBytes(16).toString('hex');
  private readonly marker = Buffer.from(`\x1b]fusejail-end;${this.nonce}\x07`);
  private held = Buffer.alloc(0);
  private found!: () => void;
  /** Resolves once the marker has gone by. */
  readonly seen = new Promise<void>((resolve) => (this.found = resolve));

  filter(chunk: Buffer): Buffer {
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const at = data.indexOf(this.marker);
    if (at >= 0) {
      this.found();
      return Buffer.concat([data.subarray(0, at), data.subarray(at + this.marker.length)]);
    }
    // Only an ESC near the end can start a marker that the next chunk completes.
    const window = Math.max(0, data.length - (this.marker.length - 1));
    for (let start = data.indexOf(ESC, window); start >= 0; start = data.indexOf(ESC, start + 1)) {
      const tail = data.subarray(start);
      if (tail.equals(this.marker.subarray(0, tail.length))) {
        this.held = Buffer.from(tail);
        return data.subarray(0, start);
      }
    }
    return data;
  }
}
