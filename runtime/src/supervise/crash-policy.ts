/** When to restart a capsule that exited on its own, and when to give up (E_CAPSULE_CRASHLOOP). */
export interface RestartPolicy {
  /** Delay before the first restart; doubles with each crash in the window. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** More than this many crashes within crashWindowMs stops the capsule for good. */
  crashLimit: number;
  crashWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 200,
  maxDelayMs: 30_000,
  crashLimit: 5,
  crashWindowMs: 60_000,
};

/** Crash history of one capsule: exponential backoff inside a sliding window. */
export class CrashTracker {
  private crashes: number[] = [];

  constructor(private readonly policy: RestartPolicy) {}

  /** Records a crash at `now`; returns the delay before the restart, or null when the limit is passed. */
  onCrash(now: number): number | null {
    this.crashes = this.crashes.filter((t) => now - t < this.policy.crashWindowMs);
    this.crashes.push(now);
    if (this.crashes.length > this.policy.crashLimit) return null;
    const delay = this.policy.initialDelayMs * 2 ** (this.crashes.length - 1);
    return Math.min(delay, this.policy.maxDelayMs);
  }

  get recentCrashes(): number {
    return this.crashes.length;
  }

  reset(): void {
    this.crashes = [];
  }
}
