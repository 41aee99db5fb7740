/**
 * IPC framing (runtime/spec/ipc.md §2): a 4-byte big-endian body length, then the body
 * (UTF-8 JSON). A zero or oversized length is E_IPC_FRAME: the stream cannot resync.
 */
import { ElastosError } from '../errors/index.js';

export const HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME = 64 * 1024;

/** Many bodies as one buffer, for one socket write. */
export function encodeFrames(bodies: string[]): Buffer {
  let total = 0;
  const lengths = bodies.map((b) => {
    const n = Buffer.byteLength(b);
    total += HEADER_BYTES + n;
    return n;
  });
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < bodies.length; i++) {
    const n = lengths[i] as number;
    out.writeUInt32BE(n, at);
    out.write(bodies[i] as string, at + HEADER_BYTES, n, 'utf8');
    at += HEADER_BYTES + n;
  }
  return out;
}

/**
 * Splits a byte stream into frame bodies. A partial frame is kept as a list of chunks and copied
 * once, when it is complete: a frame sent a byte at a time costs linear work, not quadratic.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the frame being assembled needs in all (header + body); 0 while its header is incomplete. */
  private wanted = 0;

  constructor(private readonly maxBody = DEFAULT_MAX_FRAME) {}

  /** Calls `onBody` with each complete body (a view valid only during the call). */
  push(chunk: Buffer, onBody: (body: Buffer) => void): void {
    if (this.buffered === 0) {
      this.parse(chunk, onBody);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.wanted === 0 && this.buffered >= HEADER_BYTES) this.wanted = HEADER_BYTES + this.bodyLength(this.head());
    if (this.wanted === 0 || this.buffered < this.wanted) return;
    const whole = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    this.wanted = 0;
    this.parse(whole, onBody);
  }

  /** Bytes of a partial frame waiting for the rest. */
  get pending(): number {
    return this.buffered;
  }

  private parse(buf: Buffer, onBody: (body: Buffer) => void): void {
    let at = 0;
    while (buf.length - at >= HEADER_BYTES) {
      const n = this.bodyLength(buf.readUInt32BE(at));
      if (buf.length - at - HEADER_BYTES < n) {
        this.wanted = HEADER_BYTES + n;
        break;
      }
      onBody(buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + n));
      at += HEADER_BYTES + n;
    }
    if (at === buf.length) return;
    // The rest stays a view of this chunk (no copy); at most one frame's worth is ever held.
    this.chunks = [buf.subarray(at)];
    this.buffered = buf.length - at;
  }

  /** The header of the partial frame, which may span the first few chunks. */
  private head(): number {
    const first = this.chunks[0] as Buffer;
    const bytes = first.length >= HEADER_BYTES ? first : Buffer.concat(this.chunks, HEADER_BYTES);
    return bytes.readUInt32BE(0);
  }

  private bodyLength(n: number): number {
    if (n === 0 || n > this.maxBody)
      throw new ElastosError('E_IPC_FRAME', `frame of ${n} bytes (limit ${this.maxBody})`);
    return n;
  }
}
