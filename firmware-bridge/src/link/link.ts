import { EventEmitter } from 'node:events';
import { asElastosError, ElastosError } from '@elastos/protocol/errors';
import { Deframer } from '../protocol/deframer.js';
import { decodeFrame, FLAG_ACK } from '../protocol/frame.js';
import { type DataHandler, type LastHandled, Receiver } from './receiver.js';
import { Sender, type SenderOptions } from './sender.js';

export interface LinkStats {
  framesIn: number;
  acked: number;
  retries: number;
  timeouts: number;
  duplicates: number;
  naksSent: number;
  naksReceived: number;
  staleAcks: number;
  /** Rejected blocks by reason (cobs, crc, short, flags, oversize): counted, reported, never thrown. */
  rejected: Record<string, number>;
}

/**
 * Both halves of the protocol engine over one byte stream (spec/protocol.md §2-§4); the host's
 * bridge and the MCU simulator each run one. Emits `reject` (err: ElastosError) for every bad block.
 */
export class Link extends EventEmitter<{ reject: [ElastosError] }> {
  private readonly deframer = new Deframer();
  private readonly sender: Sender;
  private readonly receiver: Receiver;
  private writer: ((wire: Uint8Array) => Promise<void>) | undefined;
  private framesIn = 0;
  private readonly rejected: Record<string, number> = {};

  constructor(opts: SenderOptions, handler: DataHandler) {
    super();
    this.sender = new Sender(opts);
    this.receiver = new Receiver(handler, (wire) => {
      this.writer?.(wire).catch(() => {});
    });
  }

  /** A new connection: sends a lone delimiter first so the peer drops any partial block (§2). */
  attach(writer: (wire: Uint8Array) => Promise<void>): void {
    this.deframer.reset();
    this.writer = writer;
    writer(Uint8Array.of(0)).catch(() => {});
    this.sender.attach(writer);
  }

  detach(err: ElastosError): void {
    this.writer = undefined;
    this.sender.detach(err);
  }

  get connected(): boolean {
    return this.sender.connected;
  }

  /** The receiver's memory of the last handled frame (spec §4.3: an MCU keeps it across its reset). */
  get lastHandled(): LastHandled | undefined {
    return this.receiver.last;
  }
  set lastHandled(last: LastHandled | undefined) {
    this.receiver.last = last;
  }

  /** Requests in flight or queued. */
  get depth(): number {
    return this.sender.depth;
  }

  request(type: number, payload: Uint8Array): Promise<Uint8Array> {
    return this.sender.request(type, payload);
  }

  /** Bytes from the transport, in any chunking. */
  receive(chunk: Uint8Array): void {
    const before = this.deframer.oversize;
    for (const block of this.deframer.push(chunk)) this.onBlock(block);
    for (let i = before; i < this.deframer.oversize; i++) this.count('oversize', undefined);
  }

  private onBlock(block: Uint8Array): void {
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(block);
    } catch (err) {
      const e = asElastosError(err);
      this.count(e.message, e);
      return;
    }
    this.framesIn++;
    if (frame.flags & FLAG_ACK) this.sender.onAck(frame);
    else void this.receiver.onData(frame);
  }

  private count(reason: string, err: ElastosError | undefined): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    if (this.listenerCount('reject') > 0) {
      this.emit('reject', err ?? new ElastosError('E_SERIAL_FRAME', reason));
    }
  }

  stats(): LinkStats {
    const s = this.sender;
    return {
      framesIn: this.framesIn,
      acked: s.acked,
      retries: s.retries,
      timeouts: s.timeouts,
      duplicates: this.receiver.duplicates,
      naksSent: this.receiver.naksSent,
      naksReceived: s.naksReceived,
      staleAcks: s.staleAcks,
      rejected: { ...this.rejected },
    };
  }
}
