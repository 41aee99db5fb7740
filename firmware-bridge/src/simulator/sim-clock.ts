import type { RtcReading } from '../protocol/messages.js';

/** A battery-backed RTC that runs `driftPpm` fast (or slow, when negative) against the host's clock. */
export class SimClock {
  private baseMs = Date.now();
  private baseMono = performance.now();

  constructor(
    private readonly driftPpm: number,
    private valid: boolean,
  ) {}

  read(): RtcReading {
    const elapsed = performance.now() - this.baseMono;
    if (!this.valid) return { unixMs: 0, valid: false }; // §5.3: 0 while invalid
    return { unixMs: Math.round(this.baseMs + elapsed * (1 + this.driftPpm / 1e6)), valid: true };
  }

  set(unixMs: number): void {
    this.baseMs = unixMs;
    this.baseMono = performance.now();
    this.valid = true;
  }
}
