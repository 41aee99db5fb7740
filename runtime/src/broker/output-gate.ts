/**
 * The output quota of one channel (runtime/spec/ipc.md §5): what the runtime has written to a
 * capsule and the kernel has not taken yet is bounded. Over the quota the runtime stops reading
 * that capsule's requests (so it makes no more replies) until the socket drains; a capsule that
 * stays so for `stallMs` is stopped, as dbus-broker does with a peer that does not read.
 */
import type { Socket } from 'node:net';

export interface OutputQuota {
  /** Bytes queued in the runtime for one capsule before its reads are paused. */
  outputQuotaBytes: number;
  /** How long a capsule may leave its channel over the quota before it is stopped. */
  stallMs: number;
}

export const DEFAULT_OUTPUT_QUOTA: OutputQuota = { outputQuotaBytes: 1024 * 1024, stallMs: 5000 };

export class OutputGate {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly quota: OutputQuota,
    private readonly on: { blocked(): void; drained(): void; stalled(): void },
  ) {
    socket.on('drain', () => this.drained());
  }

  /** True while reads are paused because the capsule does not drain. */
  get blocked(): boolean {
    return this.timer !== undefined;
  }

  /** Called after each write: over the quota, pause reading and start the stall clock. */
  wrote(): void {
    if (this.blocked || this.socket.writableLength <= this.quota.outputQuotaBytes) return;
    this.socket.pause();
    this.timer = setTimeout(() => this.on.stalled(), this.quota.stallMs);
    this.timer.unref();
    this.on.blocked();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drained(): void {
    if (!this.blocked) return;
    this.close();
    this.on.drained();
  }
}
