import { MAX_ENCODED } from './frame.js';

/**
 * Splits a byte stream at 0x00 delimiters (spec/protocol.md §2). A block longer than
 * MAX_ENCODED is dropped whole up to the next delimiter (resynchronisation after garbage);
 * the deframer's memory is bounded by MAX_ENCODED whatever the peer sends.
 */
export class Deframer {
  private readonly buf = new Uint8Array(MAX_ENCODED);
  private len = 0;
  private overflow = false;
  /** Blocks dropped for being too long. */
  oversize = 0;

  /** Feeds bytes; returns the complete blocks (empty blocks, i.e. repeated delimiters, are skipped). */
  push(chunk: Uint8Array): Uint8Array[] {
    const blocks: Uint8Array[] = [];
    for (const byte of chunk) {
      if (byte === 0) {
        if (this.overflow) this.oversize++;
        else if (this.len > 0) blocks.push(this.buf.slice(0, this.len));
        this.len = 0;
        this.overflow = false;
      } else if (this.len < MAX_ENCODED) {
        this.buf[this.len++] = byte;
      } else {
        this.overflow = true;
      }
    }
    return blocks;
  }

  /** Forgets a partial block (after a reconnect). */
  reset(): void {
    this.len = 0;
    this.overflow = false;
  }
}
