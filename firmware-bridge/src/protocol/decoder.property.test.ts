import assert from 'node:assert/strict';
import { ElastosError, hasCode } from '@elastos/protocol/errors';
import fc from 'fast-check';
import { Link } from '../link/link.js';
import { cobsDecode, cobsEncode } from './cobs.js';
import { Deframer } from './deframer.js';
import { decodeFrame, encodeFrame, MAX_ENCODED, MAX_PAYLOAD } from './frame.js';
import { decodeCommand, decodeEvent, decodeIdentity, decodeRtc } from './messages.js';

/** Untrusted bytes never crash a parser: they decode or they reject with the parser's code (spec §6). */
const onlyCode = (code: 'E_SERIAL_FRAME' | 'E_SERIAL_MESSAGE', fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (!hasCode(err, code)) throw err;
  }
};

const frameArb = fc.record({
  flags: fc.constantFrom(0, 1, 2), // 3 (ACK with SYN) is rejected (spec §3)
  seq: fc.integer({ min: 0, max: 255 }),
  type: fc.integer({ min: 0, max: 255 }),
  payload: fc.uint8Array({ maxLength: MAX_PAYLOAD }),
});

describe('serial decoders under fast-check', () => {
  it('COBS round-trips any bytes and its output holds no zero', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (data) => {
        const enc = cobsEncode(data);
        assert.equal(enc.indexOf(0), -1);
        assert.deepEqual(cobsDecode(enc), data);
      }),
    );
  });

  it('frames round-trip', () => {
    fc.assert(fc.property(frameArb, (f) => assert.deepEqual(decodeFrame(encodeFrame(f).subarray(0, -1)), { ...f })));
  });

  it('decodeFrame rejects arbitrary bytes only with E_SERIAL_FRAME', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_ENCODED + 20 }), (b) =>
        onlyCode('E_SERIAL_FRAME', () => decodeFrame(b)),
      ),
    );
  });

  it('every single-bit flip of a frame is detected', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), (f, at) => {
        const wire = encodeFrame(f).subarray(0, -1);
        const bit = at % (wire.length * 8);
        const bad = Uint8Array.from(wire);
        bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        // A flip to zero splits the block at the receiver: both halves must then be rejected too.
        const blocks = new Deframer().push(Uint8Array.from([...bad, 0]));
        for (const block of blocks)
          assert.throws(
            () => decodeFrame(block),
            (e: Error) => hasCode(e, 'E_SERIAL_FRAME'),
          );
      }),
    );
  });

  it('message decoders reject arbitrary payloads only with E_SERIAL_MESSAGE', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: MAX_PAYLOAD }), (type, p) => {
        onlyCode('E_SERIAL_MESSAGE', () => decodeCommand(type, p));
        onlyCode('E_SERIAL_MESSAGE', () => decodeEvent(type, p));
        onlyCode('E_SERIAL_MESSAGE', () => decodeIdentity(p));
        onlyCode('E_SERIAL_MESSAGE', () => decodeRtc(p));
      }),
    );
  });

  it('a link fed any byte stream in any chunking never throws, counts what it rejects, stays bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 10 }), (chunks) => {
        const link = new Link({ ackTimeoutMs: 10, maxAttempts: 1, maxQueue: 1 }, () => new Uint8Array(0));
        link.attach(() => Promise.resolve());
        for (const c of chunks) link.receive(c);
        const s = link.stats();
        assert.ok(s.framesIn + Object.values(s.rejected).reduce((a, b) => a + b, 0) <= chunks.flat().length + 1);
        link.detach(new ElastosError('E_SERIAL_CLOSED', 'done'));
      }),
    );
  });
});
