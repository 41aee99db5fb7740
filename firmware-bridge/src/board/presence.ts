/**
 * Physical presence: a long press of the front button approves the oldest pending request whose
 * window is still open (one press, one approval). Windows that close unpressed resolve false.
 */
export class PresenceGate {
  private readonly waiting: Array<{ resolve: (ok: boolean) => void; timer: NodeJS.Timeout }> = [];

  get pending(): number {
    return this.waiting.length;
  }

  wait(windowMs: number, onChange: () => void): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve(false);
          onChange();
        }, windowMs),
      };
      this.waiting.push(entry);
      onChange();
    });
  }

  /** A long press arrived: approves the oldest waiter; false when nobody waited. */
  press(): boolean {
    const entry = this.waiting.shift();
    if (!entry) return false;
    clearTimeout(entry.timer);
    entry.resolve(true);
    return true;
  }

  /** Closes every window (shutdown): all waiters resolve false. */
  clear(): void {
    for (const entry of this.waiting.splice(0)) {
      clearTimeout(entry.timer);
      entry.resolve(false);
    }
  }
}
