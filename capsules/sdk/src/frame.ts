/**
 * The guest side of IPC framing (runtime/spec/ipc.md §2): a 4-byte big-endian body length, then
 * a UTF-8 JSON body. Kept independent of the runtime's code: the spec is the contract.
 */
import { CapsuleError } from './errors.js';

const HEADER = 4;
/** The runtime refuses bodies over 64 KiB from a capsule (ipc.md §2); it may send us more. */
export const MAX_OUT_BODY = 64 * 1024;
export const MAX_IN_BODY = 1024 * 1024;

/** Many JSON bodies as one buffer, for one socket write. */
export function encodeFrames(bodies: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const body of bodies) {
    const bytes = Buffer.from(body, 'utf8');
    if (bytes.length > MAX_OUT_BODY) {
      throw new CapsuleError('E_IPC_FRAME', `message of ${bytes.length} bytes (limit ${MAX_OUT_BODY})`);
    }
    const head = Buffer.allocUnsafe(HEADER);
    head.writeUInt32BE(bytes.length, 0);
    parts.push(head, bytes);
  }
  return Buffer.concat(parts);
}

/** Splits the byte stream into bodies; a zero or oversized length is fatal (no resync). */
export class FrameReader {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onBody: (body: Buffer) => void): void {
    let buf = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    while (buf.length >= HEADER) {
      const n = buf.readUInt32BE(0);
      if (n === 0 || n > MAX_IN_BODY) throw new CapsuleError('E_IPC_FRAME', `frame of ${n} bytes from the runtime`);
      if (buf.length < HEADER + n) break;
      onBody(buf.subarray(HEADER, HEADER + n));
      buf = buf.subarray(HEADER + n);
    }
    this.rest = Buffer.from(buf);
  }
}
