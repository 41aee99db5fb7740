import { ElastosError } from '@elastos/protocol/errors';

/** A bounds-checked reader of a message payload: any underflow or leftover is E_SERIAL_MESSAGE. */
export class PayloadReader {
  private off = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  private need(n: number): number {
    if (this.off + n > this.bytes.length) throw new ElastosError('E_SERIAL_MESSAGE', 'payload too short');
    const at = this.off;
    this.off += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.need(1));
  }

  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }

  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  /** A u64 that must fit a JS safe integer (milliseconds since 1970 do for 285,000 years). */
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElastosError('E_SERIAL_MESSAGE', 'u64 out of range');
    return Number(v);
  }

  /** A length-prefixed (u8) printable-ASCII string. */
  ascii(): string {
    const n = this.u8();
    const at = this.need(n);
    const s = this.bytes.subarray(at, at + n);
    if (s.some((c) => c < 0x20 || c > 0x7e)) throw new ElastosError('E_SERIAL_MESSAGE', 'non-printable string');
    return Buffer.from(s).toString('latin1');
  }

  /** The rest of the payload as UTF-8 (invalid sequences become U+FFFD, never an exception). */
  restUtf8(): string {
    const at = this.need(this.bytes.length - this.off);
    return Buffer.from(this.bytes.subarray(at)).toString('utf8');
  }

  end(): void {
    if (this.off !== this.bytes.length) throw new ElastosError('E_SERIAL_MESSAGE', 'trailing bytes');
  }
}

/** Little-endian payload writer. */
export class PayloadWriter {
  private readonly parts: number[] = [];

  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }

  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }

  u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }

  ascii(s: string): this {
    const b = Buffer.from(s, 'latin1');
    if (b.length > 255) throw new RangeError('string longer than 255 bytes');
    this.u8(b.length);
    for (const c of b) this.u8(c);
    return this;
  }

  utf8(s: string): this {
    for (const c of Buffer.from(s, 'utf8')) this.u8(c);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
