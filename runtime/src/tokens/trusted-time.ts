/**
 * Trusted time (runtime/spec/token.md §7.1): a floor on the real time that the wall clock cannot
 * push forward. It advances only by the monotonic clock while the runtime runs, and is persisted
 * with token state changes and at stop; the first start takes the wall clock once (trust on
 * first use). A boot with the clock a day ahead therefore moves it by nothing: pruning judged
 * against it never drops a counter that a later check still needs. While the box is off it
 * stands still, so it lags real time by the downtime: pruning is late, never early.
 */
import type { BatchOp, Store } from '../store/index.js';

const KEY = 'tokens.trustedTime';
const encoder = new TextEncoder();

export class TrustedTime {
  private constructor(
    private readonly store: Store,
    private readonly base: number,
    private readonly monoAtBase: number,
    private readonly mono: () => number,
  ) {}

  /** `wall` is read only when no trusted time was ever stored; `mono` is milliseconds, monotonic. */
  static async load(store: Store, wall: () => number, mono = () => performance.now()): Promise<TrustedTime> {
    const raw = await store.get('meta', KEY);
    const stored = raw ? Number.parseInt(new TextDecoder().decode(raw), 10) : Number.NaN;
    const t = new TrustedTime(store, Number.isSafeInteger(stored) ? stored : wall(), mono(), mono);
    if (!Number.isSafeInteger(stored)) await t.persist();
    return t;
  }

  now(): number {
    return this.base + Math.max(0, Math.floor(this.mono() - this.monoAtBase));
  }

  /** The op that persists the current value; committed with the token state changes. */
  op(): BatchOp {
    return { type: 'put', sublevel: this.store.ns('meta'), key: KEY, value: encoder.encode(String(this.now())) };
  }

  persist(): Promise<void> {
    return this.store.batch([this.op()], { sync: true });
  }
}
