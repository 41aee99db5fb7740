import { randomInt } from 'node:crypto';
import { ElastosError } from '@elastos/protocol/errors';
import { encodeFrame, FLAG_SYN, type Frame } from '../protocol/frame.js';
import { MSG, NAK_REASONS } from '../protocol/messages.js';

export interface SenderOptions {
  /** Wait this long for an ACK before retransmitting (spec §4.1). */
  ackTimeoutMs: number;
  /** Give up with E_SERIAL_TIMEOUT after this many transmissions, the first one included (§4.1). */
  maxAttempts: number;
  /** Requests waiting behind the one in flight; one more is refused with E_SERIAL_BUSY (backpressure). */
  maxQueue: number;
}

interface Pending {
  type: number;
  payload: Uint8Array;
  resolve: (reply: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface InFlight extends Pending {
  seq: number;
  syn: boolean;
  wire: Uint8Array;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The sending half of the link (spec/protocol.md §4.1): one DATA frame in flight, retransmitted
 * unchanged until its ACK arrives or the attempts run out; the others wait in a bounded queue.
 */
export class Sender {
  private readonly queue: Pending[] = [];
  private inFlight: InFlight | undefined;
  private nextSeq = randomInt(256);
  private syn = true;
  private writer: ((wire: Uint8Array) => Promise<void>) | undefined;
  retries = 0;
  timeouts = 0;
  acked = 0;
  naksReceived = 0;
  staleAcks = 0;

  constructor(private readonly opts: SenderOptions) {}

  /** Starts a session on a new connection: a fresh random sequence number and SYN on the first frame (§4.3). */
  attach(writer: (wire: Uint8Array) => Promise<void>): void {
    this.writer = writer;
    this.nextSeq = randomInt(256);
    this.syn = true;
    this.pump();
  }

  /** The connection is gone: every request waiting or in flight fails with `err`. */
  detach(err: ElastosError): void {
    this.writer = undefined;
    const flight = this.inFlight;
    this.inFlight = undefined;
    if (flight) {
      clearTimeout(flight.timer);
      flight.reject(err);
    }
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  get connected(): boolean {
    return this.writer !== undefined;
  }

  get depth(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  /** Sends one DATA frame reliably; resolves with the ACK's reply payload. */
  request(type: number, payload: Uint8Array): Promise<Uint8Array> {
    if (!this.writer) return Promise.reject(new ElastosError('E_SERIAL_CLOSED', 'the serial link is down'));
    if (this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(new ElastosError('E_SERIAL_BUSY', `${this.queue.length} requests already queued`));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      this.queue.push({ type, payload, resolve, reject });
      this.pump();
    });
  }

  /** An ACK frame from the peer. Stale or unexpected ones are counted and ignored. */
  onAck(frame: Frame): void {
    const flight = this.inFlight;
    if (!flight || frame.seq !== flight.seq || (frame.type !== flight.type && frame.type !== MSG.NAK)) {
      this.staleAcks++;
      return;
    }
    clearTimeout(flight.timer);
    this.inFlight = undefined;
    if (flight.syn) this.syn = false;
    if (frame.type === MSG.NAK) {
      this.naksReceived++;
      const reason = NAK_REASONS[frame.payload[0] ?? 0] ?? '?';
      flight.reject(new ElastosError('E_SERIAL_REJECTED', `type 0x${flight.type.toString(16)}: ${reason}`));
    } else {
      this.acked++;
      flight.resolve(frame.payload);
    }
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || !this.writer) return;
    const next = this.queue.shift();
    if (!next) return;
    const seq = this.nextSeq;
    this.nextSeq = (seq + 1) & 0xff;
    // §4.3: SYN stays on every new frame until a SYN frame was acknowledged.
    const syn = this.syn;
    const wire = encodeFrame({ flags: syn ? FLAG_SYN : 0, seq, type: next.type, payload: next.payload });
    this.inFlight = { ...next, seq, syn, wire, attempts: 0, timer: undefined };
    this.transmit();
  }

  private transmit(): void {
    const flight = this.inFlight;
    if (!flight || !this.writer) return;
    flight.attempts++;
    if (flight.attempts > 1) this.retries++;
    // A failed write is a lost frame: the timer retransmits it, the bridge notices the unplug.
    this.writer(flight.wire).catch(() => {});
    flight.timer = setTimeout(() => this.onTimeout(flight), this.opts.ackTimeoutMs);
  }

  private onTimeout(flight: InFlight): void {
    if (this.inFlight !== flight) return;
    if (flight.attempts < this.opts.maxAttempts) {
      this.transmit();
      return;
    }
    this.timeouts++;
    this.inFlight = undefined;
    flight.reject(new ElastosError('E_SERIAL_TIMEOUT', `no ACK after ${flight.attempts} attempts`));
    this.pump();
  }
}
