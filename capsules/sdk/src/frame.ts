/**
 * The guest side of IPC framing (runtime/spec/ipc.md §2), on the contract's codec
 * (`@elastos/protocol/ipc/frame`): the runtime refuses bodies over 64 KiB from a capsule, so
 * the SDK refuses to send one; it may receive up to 1 MiB.
 */
import { DEFAULT_MAX_FRAME, encodeFrames as encodeBodies, FrameDecoder } from '@elastos/protocol/ipc/frame';
import { CapsuleError } from './errors.js';

export const MAX_OUT_BODY = DEFAULT_MAX_FRAME;
export const MAX_IN_BODY = 1024 * 1024;

/** Many JSON bodies as one buffer, for one socket write; a body over the runtime's limit is E_IPC_FRAME. */
export function encodeFrames(bodies: string[]): Buffer {
  for (const body of bodies) {
    const n = Buffer.byteLength(body);
    if (n > MAX_OUT_BODY) throw new CapsuleError('E_IPC_FRAME', `message of ${n} bytes (limit ${MAX_OUT_BODY})`);
  }
  return encodeBodies(bodies);
}

/** Splits the byte stream from the runtime into bodies; a zero or oversized length is fatal (no resync). */
export class FrameReader extends FrameDecoder {
  constructor() {
    super(MAX_IN_BODY);
  }
}
