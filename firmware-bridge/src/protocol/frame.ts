import { crc32 } from 'node:zlib';
import { ElastosError } from '@elastos/protocol/errors';
import { cobsDecode, cobsEncode } from './cobs.js';

/** Frame flags (spec/protocol.md §3). Bits 2-7 are reserved and must be zero. */
export const FLAG_ACK = 0x01;
export const FLAG_SYN = 0x02;
const FLAGS_KNOWN = FLAG_ACK | FLAG_SYN;

/** Largest payload of one frame (§3); keeps an MCU's receive buffer at 256 bytes. */
export const MAX_PAYLOAD = 240;
const HEADER = 3;
const CRC_LEN = 4;
/** Largest COBS block (without the 0x00 delimiter) a receiver must buffer (§2): one overhead byte for a body under 254. */
export const MAX_ENCODED = HEADER + MAX_PAYLOAD + CRC_LEN + 1;

export interface Frame {
  flags: number;
  seq: number;
  type: number;
  payload: Uint8Array;
}

/** Header, payload and CRC-32 (ISO-HDLC, as zlib computes it) little-endian: the frame body of §3. */
export function frameBody(frame: Frame): Uint8Array {
  if (frame.payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${frame.payload.length} > ${MAX_PAYLOAD}`);
  const body = new Uint8Array(HEADER + frame.payload.length + CRC_LEN);
  body[0] = frame.flags;
  body[1] = frame.seq & 0xff;
  body[2] = frame.type;
  body.set(frame.payload, HEADER);
  const crc = crc32(body.subarray(0, HEADER + frame.payload.length));
  new DataView(body.buffer).setUint32(HEADER + frame.payload.length, crc, true);
  return body;
}

/** The bytes on the wire: COBS(body) then the 0x00 delimiter (§2). */
export function encodeFrame(frame: Frame): Uint8Array {
  const block = cobsEncode(frameBody(frame));
  const wire = new Uint8Array(block.length + 1);
  wire.set(block);
  return wire;
}

/** Parses one COBS block (delimiter removed). Untrusted bytes: rejects with E_SERIAL_FRAME, never anything else. */
export function decodeFrame(block: Uint8Array): Frame {
  if (block.length > MAX_ENCODED) throw new ElastosError('E_SERIAL_FRAME', 'oversize');
  const body = cobsDecode(block);
  if (!body) throw new ElastosError('E_SERIAL_FRAME', 'cobs');
  if (body.length < HEADER + CRC_LEN) throw new ElastosError('E_SERIAL_FRAME', 'short');
  const end = body.length - CRC_LEN;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  if (view.getUint32(end, true) !== crc32(body.subarray(0, end))) throw new ElastosError('E_SERIAL_FRAME', 'crc');
  const flags = body[0] ?? 0;
  // §3: reserved bits are zero, and an ACK never carries SYN.
  if ((flags & ~FLAGS_KNOWN) !== 0 || flags === FLAGS_KNOWN) throw new ElastosError('E_SERIAL_FRAME', 'flags');
  if (end - HEADER > MAX_PAYLOAD) throw new ElastosError('E_SERIAL_FRAME', 'oversize');
  return { flags, seq: body[1] ?? 0, type: body[2] ?? 0, payload: body.slice(HEADER, end) };
}
