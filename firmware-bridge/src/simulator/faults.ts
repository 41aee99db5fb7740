import type { Transport } from '../transport/transport.js';

/** Fault injection on one side of the wire (the simulator's); every rate is a probability 0..1. */
export interface Faults {
  /** Per byte, in both directions: one random bit of the byte flips. */
  bitFlipRate: number;
  /** Per frame sent: it is not sent. */
  dropRate: number;
  /** Per frame sent: it is sent twice. */
  duplicateRate: number;
  /** Per frame sent: random bytes (with no delimiter, then one) go out before it. */
  garbageRate: number;
  /** Every frame sent waits this long (0 = none), up to twice as long at random. */
  delayMs: number;
}

export const NO_FAULTS: Faults = { bitFlipRate: 0, dropRate: 0, duplicateRate: 0, garbageRate: 0, delayMs: 0 };

/** A seeded PRNG (mulberry32) so that a failing fault run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Wraps a real transport and damages what passes through it, as a noisy cable would. */
export class FaultyTransport implements Transport {
  faults: Faults = { ...NO_FAULTS };
  readonly injected = { bitFlips: 0, drops: 0, duplicates: 0, garbage: 0 };
  /** The next this-many frames written are dropped whatever the rates (a test's exact loss). */
  dropNext = 0;

  constructor(
    private readonly inner: Transport,
    private readonly random: () => number = Math.random,
  ) {}

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  stale(): boolean {
    return this.inner.stale?.() === true;
  }

  onClose(listener: (err: Error | undefined) => void): void {
    this.inner.onClose(listener);
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.inner.onData((chunk) => listener(this.flip(chunk)));
  }

  async write(data: Uint8Array): Promise<void> {
    const f = this.faults;
    if (f.delayMs > 0) await new Promise((r) => setTimeout(r, f.delayMs * (1 + this.random())));
    if (this.random() < f.garbageRate) {
      this.injected.garbage++;
      await this.inner.write(this.garbage());
    }
    if (this.dropNext > 0 || this.random() < f.dropRate) {
      if (this.dropNext > 0) this.dropNext--;
      this.injected.drops++;
      return;
    }
    await this.inner.write(this.flip(data));
    if (this.random() < f.duplicateRate) {
      this.injected.duplicates++;
      await this.inner.write(this.flip(data));
    }
  }

  private flip(chunk: Uint8Array): Uint8Array {
    if (this.faults.bitFlipRate <= 0) return chunk;
    const out = Uint8Array.from(chunk);
    for (let i = 0; i < out.length; i++) {
      if (this.random() < this.faults.bitFlipRate) {
        out[i] = (out[i] ?? 0) ^ (1 << Math.floor(this.random() * 8));
        this.injected.bitFlips++;
      }
    }
    return out;
  }

  private garbage(): Uint8Array {
    const n = 1 + Math.floor(this.random() * 400);
    const out = new Uint8Array(n + 1);
    for (let i = 0; i < n; i++) out[i] = 1 + Math.floor(this.random() * 255);
    return out;
  }
}
