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
  /**
   * The blink count the board's LED shows for it (1-9), also printed by `elastos requests`: the
   * person at the box sees which request a press answers. Two requests shown one after the other
   * never share a code.
   */
  code: number;
  /** When the box started showing it, and when its window closes (ms since the epoch). */
  shownAt: number;
  closesAt: number;
}

export interface Press {
  /** When the press was reported, and how long the button was held. */
  at: number;
  durationMs: number;
}

export type PressVerdict = { ticket: string; request: DecisionRequest; code: number } | { refused: string };

export class PresenceDesk {
  private readonly line: Array<{ ticket: string; request: DecisionRequest }> = [];
  private shown: PresenceTarget | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastCode = 0;
  private readonly watchers = new Set<(shown: PresenceTarget | undefined) => void>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The request a press would answer now, if any. */
  target(): PresenceTarget | undefined {
    return this.shown;
  }

  /** Called with each request the box starts showing, and with undefined when it shows none. */
  onShow(watch: (shown: PresenceTarget | undefined) => void): () => void {
    this.watchers.add(watch);
    watch(this.shown);
    return () => {
      this.watchers.delete(watch);
    };
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
    return { ticket: shown.ticket, request: shown.request, code: shown.code };
  }

  close(): void {
    clearTimeout(this.timer);
    this.line.splice(0);
    this.show(undefined);
  }

  private showNext(): void {
    clearTimeout(this.timer);
    const next = this.line.find((e) => e.ticket !== this.shown?.ticket) ?? this.line[0];
    if (!next) {
      this.show(undefined);
      return;
    }
    const shownAt = this.now();
    this.lastCode = (this.lastCode % 9) + 1;
    this.show({ ...next, code: this.lastCode, shownAt, closesAt: shownAt + this.windowMs });
    this.timer = setTimeout(() => this.expire(next.ticket), this.windowMs);
    this.timer.unref();
  }

  private show(target: PresenceTarget | undefined): void {
    if (target === undefined && this.shown === undefined) return;
    this.shown = target;
    for (const watch of this.watchers) watch(target);
  }

  /** A window closed unpressed: that request goes to the back of the line, the next is shown. */
  private expire(ticket: string): void {
    const i = this.line.findIndex((e) => e.ticket === ticket);
    if (i >= 0) this.line.push(...this.line.splice(i, 1));
    this.showNext();
  }
}
