import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { hasCode } from '@elastos/protocol/errors';
import { DEFAULT_BRIDGE_OPTIONS } from '../bridge/bridge.js';
import { DEFAULT_SIMULATOR_OPTIONS } from '../simulator/mcu-simulator.js';
import { cobsDecode, cobsEncode } from './cobs.js';
import { decodeFrame, encodeFrame, MAX_ENCODED, MAX_PAYLOAD } from './frame.js';
import {
  type Command,
  decodeCommand,
  decodeEvent,
  decodeIdentity,
  decodeRtc,
  encodeCommand,
  encodeEvent,
  type Identity,
  type McuEvent,
  type RtcReading,
} from './messages.js';

/** spec/vectors.json, written by spec/make-vectors.py (an independent Python reference). */
interface Vectors {
  crc32: Array<{ ascii: string; crc: string }>;
  cobs: Array<{ decoded: string; encoded: string }>;
  frames: Array<{ name: string; flags: number; seq: number; type: number; payload: string; wire: string }>;
  messages: Array<{
    name: string;
    kind: 'command' | 'event';
    message: Command | McuEvent;
    type: number;
    payload: string;
  }>;
  frameRejects: Array<{ name: string; block: string; code: string; reason: string }>;
  messageRejects: Array<{ name: string; kind: 'command' | 'event'; type: number; payload: string; code: string }>;
  lenient: Array<{ name: string; kind: 'event'; type: number; payload: string; message: McuEvent }>;
  replies: Array<{ name: string; reply: 'rtc' | 'identity'; payload: string; value: RtcReading | Identity }>;
  budgets: Record<'host' | 'mcu', { ackTimeoutMs: number; maxAttempts: number; transmissions: number }>;
}

const vectors = JSON.parse(readFileSync(new URL('../../spec/vectors.json', import.meta.url), 'utf8')) as Vectors;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

describe('serial protocol vectors (spec/protocol.md, spec/vectors.json)', () => {
  it('CRC-32 has the ISO-HDLC check value', () => {
    for (const v of vectors.crc32) assert.equal(crc32(v.ascii).toString(16).padStart(8, '0'), v.crc);
  });

  it('COBS encodes and decodes the reference blocks, 254-byte runs included', () => {
    for (const v of vectors.cobs) {
      assert.equal(hex(cobsEncode(bytes(v.decoded))), v.encoded, v.decoded.slice(0, 16));
      assert.equal(hex(cobsDecode(bytes(v.encoded)) ?? new Uint8Array()), v.decoded);
    }
  });

  it('frames encode to the wire bytes and decode back', () => {
    for (const v of vectors.frames) {
      const frame = { flags: v.flags, seq: v.seq, type: v.type, payload: bytes(v.payload) };
      assert.equal(hex(encodeFrame(frame)), v.wire, v.name);
      const wire = bytes(v.wire);
      assert.equal(wire.indexOf(0), wire.length - 1, `${v.name}: only the delimiter is zero`);
      assert.deepEqual(decodeFrame(wire.subarray(0, -1)), frame, v.name);
    }
  });

  it('messages encode to their payloads and decode back', () => {
    for (const v of vectors.messages) {
      if (v.kind === 'command') {
        const cmd = v.message as Command;
        assert.deepEqual(encodeCommand(cmd), { type: v.type, payload: bytes(v.payload) }, v.name);
        assert.deepEqual(decodeCommand(v.type, bytes(v.payload)), cmd, v.name);
      } else {
        const ev = v.message as McuEvent;
        assert.deepEqual(encodeEvent(ev), { type: v.type, payload: bytes(v.payload) }, v.name);
        assert.deepEqual(decodeEvent(v.type, bytes(v.payload)), ev, v.name);
      }
    }
  });

  it('rejects bad frames with E_SERIAL_FRAME and the reason', () => {
    for (const v of vectors.frameRejects) {
      assert.throws(
        () => decodeFrame(bytes(v.block)),
        (err: Error) => hasCode(err, 'E_SERIAL_FRAME') && err.message === v.reason,
        v.name,
      );
    }
  });

  it('rejects bad messages with E_SERIAL_MESSAGE', () => {
    for (const v of vectors.messageRejects) {
      const decode = v.kind === 'command' ? decodeCommand : decodeEvent;
      assert.throws(
        () => decode(v.type, bytes(v.payload)),
        (err: Error) => hasCode(err, 'E_SERIAL_MESSAGE'),
        v.name,
      );
    }
  });

  it('decodes what an MCU may send leniently: LOG text that is not UTF-8 keeps its event (§5.5)', () => {
    for (const v of vectors.lenient) assert.deepEqual(decodeEvent(v.type, bytes(v.payload)), v.message, v.name);
  });

  it('decodes ACK payloads; an invalid RTC reading is 0 whatever its value (§5.3)', () => {
    for (const v of vectors.replies) {
      const decode = v.reply === 'rtc' ? decodeRtc : decodeIdentity;
      assert.deepEqual(decode(bytes(v.payload)), v.value, v.name);
    }
  });

  it('keeps the payload limit of §3 (240) and the block limit of §2 (248) consistent', () => {
    assert.equal(MAX_PAYLOAD, 240);
    assert.equal(MAX_ENCODED, 248);
    const largest = encodeFrame({ flags: 0, seq: 0, type: 0x82, payload: new Uint8Array(MAX_PAYLOAD).fill(1) });
    assert.equal(largest.length - 1, MAX_ENCODED, 'the largest frame is exactly the largest block');
  });

  it('uses the retransmission budgets of §4.1 on both ends', () => {
    const { host, mcu } = vectors.budgets;
    assert.deepEqual(
      [DEFAULT_BRIDGE_OPTIONS.ackTimeoutMs, DEFAULT_BRIDGE_OPTIONS.maxAttempts],
      [host.ackTimeoutMs, host.maxAttempts],
    );
    assert.deepEqual(
      [DEFAULT_SIMULATOR_OPTIONS.ackTimeoutMs, DEFAULT_SIMULATOR_OPTIONS.maxAttempts],
      [mcu.ackTimeoutMs, mcu.maxAttempts],
    );
  });
});
