/**
 * Per-capsule flow control (runtime/spec/ipc.md §5): a token bucket on requests, a cap on
 * requests in flight, and strikes for floods and garbage. Too many strikes in a second and
 * the channel is stopped. One capsule's bucket never touches another's.
 */
export interface ThrottleOptions {
  /** Sustained requests per second. */
  ratePerSec: number;
  /** Requests allowed at once above the rate. */
  burst: number;
  maxInFlight: number;
  /** Strikes within one second that stop the channel. */
  maxStrikes: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { ratePerSec: 10_000, burst: 500, maxInFlight: 256, maxStrikes: 20 };

export class Throttle {
  private tokens: number;
  private last = performance.now();
  private strikes = 0;
  private strikeWindow = 0;
  inFlight = 0;

  constructor(private readonly o: ThrottleOptions) {
    this.tokens = o.burst;
  }

  /** Takes one request slot; false means throttled. */
  admit(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.o.burst, this.tokens + ((now - this.last) * this.o.ratePerSec) / 1000);
    this.last = now;
    if (this.tokens < 1 || this.inFlight >= this.o.maxInFlight) return false;
    this.tokens -= 1;
    this.inFlight += 1;
    return true;
  }

  done(): void {
    this.inFlight -= 1;
  }

  /** Counts a strike; true when the channel must be stopped. */
  strike(): boolean {
    const now = performance.now();
    if (now - this.strikeWindow > 1000) {
      this.strikeWindow = now;
      this.strikes = 0;
    }
    this.strikes += 1;
    return this.strikes > this.o.maxStrikes;
  }
}
