import { crc32 } from 'node:zlib';
import { encodeFrame, FLAG_ACK, FLAG_SYN, type Frame } from '../protocol/frame.js';
import { MSG } from '../protocol/messages.js';

/**
 * What a DATA frame's handler answers: the ACK's reply payload, a NAK reason (spec §4.2), or
 * null for "not now": no ACK is sent and nothing is remembered, so the peer's retransmission
 * runs the handler again.
 */
export type HandlerResult = Uint8Array | { nak: number } | null;
export type DataHandler = (type: number, payload: Uint8Array) => Promise<HandlerResult> | HandlerResult;

/** The last handled frame, which an MCU keeps across its own reset (spec §4.3). */
export interface LastHandled {
  seq: number;
  crc: number;
  syn: boolean;
  ack: Uint8Array;
}

/**
 * The receiving half of the link (spec/protocol.md §4.2): delivers each DATA frame to the handler
 * once, acknowledges it after the handler returns, and answers a retransmission with the cached
 * ACK instead of running the handler again. One frame is handled at a time (stop-and-wait), so
 * a slow handler slows the peer down instead of overflowing anything.
 */
export class Receiver {
  /** Public so that an MCU (the simulator) can keep it across a reset, as §4.3 requires. */
  last: LastHandled | undefined;
  private busy: { seq: number; crc: number } | undefined;
  duplicates = 0;
  naksSent = 0;
  dropped = 0;

  constructor(
    private readonly handler: DataHandler,
    private readonly send: (wire: Uint8Array) => void,
  ) {}

  async onData(frame: Frame): Promise<void> {
    const crc = crc32(Buffer.concat([Uint8Array.of(frame.type), frame.payload]));
    const last = this.last;
    const sameAsLast = last !== undefined && last.seq === frame.seq && last.crc === crc;
    const syn = (frame.flags & FLAG_SYN) !== 0;
    if (sameAsLast && (!syn || last.syn)) {
      this.duplicates++;
      this.send(last.ack);
      return;
    }
    if (this.busy) {
      // Stop-and-wait: the peer retransmits until we answer; anything else is dropped and retried.
      if (this.busy.seq === frame.seq && this.busy.crc === crc) this.duplicates++;
      else this.dropped++;
      return;
    }
    this.busy = { seq: frame.seq, crc };
    try {
      const ack = await this.answer(frame);
      if (!ack) return;
      this.last = { seq: frame.seq, crc, syn, ack };
      this.send(ack);
    } finally {
      this.busy = undefined;
    }
  }

  private async answer(frame: Frame): Promise<Uint8Array | null> {
    let result: HandlerResult;
    try {
      result = await this.handler(frame.type, frame.payload);
    } catch {
      result = { nak: 3 };
    }
    if (result === null) return null;
    if (result instanceof Uint8Array) {
      return encodeFrame({ flags: FLAG_ACK, seq: frame.seq, type: frame.type, payload: result });
    }
    this.naksSent++;
    return encodeFrame({ flags: FLAG_ACK, seq: frame.seq, type: MSG.NAK, payload: Uint8Array.of(result.nak) });
  }
}
