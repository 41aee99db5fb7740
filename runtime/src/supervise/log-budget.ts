/**
 * A capsule's stdout/stderr reach the runtime's log, which a hostile capsule could flood: at most
 * `perSecond` lines a second pass, each cut to `maxChars`; the rest are counted and reported once
 * the next second opens.
 */
export class LogBudget {
  private windowStart = 0;
  private used = 0;
  private dropped = 0;

  constructor(
    private readonly perSecond = 50,
    private readonly maxChars = 1000,
  ) {}

  /** The lines to log now for `line` arriving at `now` (ms): none, the line, or a drop notice and the line. */
  admit(line: string, now: number): string[] {
    const out: string[] = [];
    if (now - this.windowStart >= 1000) {
      if (this.dropped > 0) out.push(`[${this.dropped} lines of capsule output dropped]`);
      this.windowStart = now;
      this.used = 0;
      this.dropped = 0;
    }
    if (this.used >= this.perSecond) {
      this.dropped++;
      return out;
    }
    this.used++;
    out.push(line.length > this.maxChars ? `${line.slice(0, this.maxChars)}…` : line);
    return out;
  }
}
