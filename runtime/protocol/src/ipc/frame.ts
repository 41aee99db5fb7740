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

/** Splits a byte stream into frame bodies; keeps a partial frame for the next chunk. */
export class FrameDecoder {
  private rest: Buffer | undefined;

  constructor(private readonly maxBody = DEFAULT_MAX_FRAME) {}

  /** Calls `onBody` with each complete body (a view valid only during the call). */
  push(chunk: Buffer, onBody: (body: Buffer) => void): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let at = 0;
    while (buf.length - at >= HEADER_BYTES) {
      const n = buf.readUInt32BE(at);
      if (n === 0 || n > this.maxBody) {
        throw new ElastosError('E_IPC_FRAME', `frame of ${n} bytes (limit ${this.maxBody})`);
      }
      if (buf.length - at - HEADER_BYTES < n) break;
      onBody(buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + n));
      at += HEADER_BYTES + n;
    }
    if (at < buf.length) this.rest = Buffer.from(buf.subarray(at));
  }

  /** Bytes of a partial frame waiting for the rest. */
  get pending(): number {
    return this.rest?.length ?? 0;
  }
}
