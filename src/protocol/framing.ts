// Splits a byte stream into lines, refusing any line longer than the protocol allows.
import { MAX_LINE_BYTES } from './messages.js';

export type Frame = { line: string } | { oversized: true };

export class LineDecoder {
  private buffered = '';
  private skipping = false;

  /** The complete lines in `chunk` (and what was buffered before it). */
  push(chunk: Buffer | string): Frame[] {
    const frames: Frame[] = [];
    this.buffered += chunk.toString();
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (this.skipping) this.skipping = false;
      else if (Buffer.byteLength(line) > MAX_LINE_BYTES) frames.push({ oversized: true });
      else frames.push({ line });
    }
    // NOTE: an endless line must not grow without bound: it is answered once and then skipped.
    if (!this.skipping && Buffer.byteLength(this.buffered) > MAX_LINE_BYTES) {
      frames.push({ oversized: true });
      this.skipping = true;
    }
    if (this.skipping) this.buffered = '';
    return frames;
  }
}
