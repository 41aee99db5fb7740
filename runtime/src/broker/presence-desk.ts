/**
 * Binds the board's button to one pending request at a time (SECURITY.md, the shell's README
 * "Physical presence"). Requests that wait for a human are shown one by one, each for its own
 * window; a long press answers the request shown, and only when the press began after that
 * request was shown and ended inside its window: one press, one request. A request whose window
 * closes unpressed goes to the back of the line. Mechanism only: the shell still decides.
 */
import type { DecisionRequest } from '@elastos/protocol/ipc/decision';

export interface PresenceTarget {
  ticket: string;
  request: DecisionRequest;
  /** When the box started showing it, and when its window closes (ms since the epoch). */
  shownAt: number;
  closesAt: number;
}

export interface Press {
  /** When the press was reported, and how long the button was held. */
  at: number;
  durationMs: number;
}

export type PressVerdict = { ticket: string; request: DecisionRequest } | { refused: string };

export class PresenceDesk {
  private readonly line: Array<{ ticket: string; request: DecisionRequest }> = [];
  private shown: PresenceTarget | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The request a press would answer now, if any. */
  target(): PresenceTarget | undefined {
    return this.shown;
  }

  add(ticket: string, request: DecisionRequest): void {
    this.line.push({ ticket, request });
    if (!this.shown) this.showNext();
  }

  /** The request was answered some other way (admin, timeout): it leaves the line. */
  remove(ticket: string): void {
    const i = this.line.findIndex((e) => e.ticket === ticket);
    if (i >= 0) this.line.splice(i, 1);
    if (this.shown?.ticket === ticket) this.showNext();
  }

  /** A long press: the shown request, when the press fits its window; it leaves the line. */
  press(p: Press): PressVerdict {
    const shown = this.shown;
    if (!shown) return { refused: 'no request is shown' };
    if (p.at - p.durationMs < shown.shownAt) return { refused: `the press began before ${shown.ticket} was shown` };
    if (p.at > shown.closesAt) return { refused: `the window of ${shown.ticket} had closed` };
    this.remove(shown.ticket);
    return { ticket: shown.ticket, request: shown.request };
  }

  close(): void {
    clearTimeout(this.timer);
    this.line.splice(0);
    this.shown = undefined;
  }

  private showNext(): void {
    clearTimeout(this.timer);
    const next = this.line.find((e) => e.ticket !== this.shown?.ticket) ?? this.line[0];
    if (!next) {
      this.shown = undefined;
      return;
    }
    const shownAt = this.now();
    this.shown = { ...next, shownAt, closesAt: shownAt + this.windowMs };
    this.timer = setTimeout(() => this.expire(next.ticket), this.windowMs);
    this.timer.unref();
  }

  /** A window closed unpressed: that request goes to the back of the line, the next is shown. */
  private expire(ticket: string): void {
    const i = this.line.findIndex((e) => e.ticket === ticket);
    if (i >= 0) this.line.push(...this.line.splice(i, 1));
    this.showNext();
  }
}
