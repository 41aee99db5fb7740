import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type AuditRecord, chainHash, encodeRecord, toHex } from '@elastos/protocol/audit/record';
import fc from 'fast-check';
import type { BatchOp } from '../store/index.js';
import { lastWriteWins } from './audit-log.js';
import { type FlatEvent, packFlatRecord } from './record-encode.js';

interface Vectors {
  records: Array<{ record: AuditRecord; cbor: string; prev: string; hash: string }>;
}
const vectors = JSON.parse(readFileSync(new URL('../../spec/audit-vectors.json', import.meta.url), 'utf8')) as Vectors;

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
const int = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.maxSafeNat(),
  fc.constantFrom(23, 24, 255, 256, 65535, 65536),
);
const record = fc.record(
  {
    v: fc.constant(1),
    seq: fc.maxSafeNat(),
    time: int,
    actor: text,
    type: text,
    resource: text,
    action: text,
    decision: fc.constantFrom('allow', 'deny', 'ask', 'allow-log'),
    code: fc.constantFrom('E_TOKEN_EXPIRED', 'E_AUDIT_WRITE'),
    tokenId: text,
  },
  { requiredKeys: ['v', 'seq', 'time', 'actor', 'type'] },
);

describe('audit record fast encoder (spec/audit.md §2, §4)', () => {
  it('packs every vector without details to its canonical bytes and chain hash', () => {
    let prev: Uint8Array = new Uint8Array(32);
    let packed = 0;
    for (const v of vectors.records) {
      const out =
        v.record.details === undefined
          ? packFlatRecord(v.record as FlatEvent, v.record.v, v.record.seq, v.record.time, prev)
          : undefined;
      if (out) {
        packed++;
        assert.equal(toHex(out.bytes), v.cbor);
        assert.equal(toHex(out.hash), v.hash);
        assert.equal(toHex(out.value), v.hash + v.cbor);
      }
      prev = chainHash(prev, encodeRecord(v.record));
    }
    assert.ok(packed >= 1);
  });

  it('writes the same bytes as cborg rfc8949 for any record it accepts, and hands back the rest', () => {
    fc.assert(
      fc.property(record, (r) => {
        const prev = new Uint8Array(32).fill(7);
        const out = packFlatRecord(r as FlatEvent, r.v, r.seq, r.time, prev);
        const bytes = encodeRecord(r as AuditRecord);
        const lone = [r.actor, r.type, r.resource, r.action, r.tokenId].some((s) => s && /[\uD800-\uDFFF]/.test(s));
        if (lone || !Number.isSafeInteger(r.time)) return out === undefined;
        assert.ok(out);
        assert.equal(toHex(out.bytes), toHex(bytes));
        assert.equal(toHex(out.hash), toHex(chainHash(prev, bytes)));
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a non-integer time (the general encoder and checks decide)', () => {
    assert.equal(packFlatRecord({ actor: 'a', type: 't' }, 1, 0, 1.5, new Uint8Array(32)), undefined);
  });
});

describe('audit batch: last write wins per key (spec/audit.md §5)', () => {
  const a = { name: 'a' } as unknown as BatchOp['sublevel'];
  const b = { name: 'b' } as unknown as BatchOp['sublevel'];
  const put = (sublevel: BatchOp['sublevel'], key: string, v: number): BatchOp => ({
    type: 'put',
    sublevel,
    key,
    value: new Uint8Array([v]),
  });

  it('keeps only the last op on each key of each namespace, in order', () => {
    const ops: BatchOp[] = [put(a, 'u/1', 1), put(b, 'u/1', 2), put(a, 'u/1', 3), put(a, 'r/1', 4)];
    ops.push({ type: 'del', sublevel: b, key: 'u/1' }, put(a, 'u/2', 5), put(a, 'u/1', 6));
    const kept = lastWriteWins(ops);
    assert.deepEqual(
      kept.map((o) => `${(o.sublevel as unknown as { name: string }).name}:${o.key}:${o.type}`),
      ['a:r/1:put', 'b:u/1:del', 'a:u/2:put', 'a:u/1:put'],
    );
    assert.equal((kept.at(-1) as { value: Uint8Array }).value[0], 6);
  });

  it('returns the same array when no key repeats', () => {
    const ops = [put(a, 'u/1', 1), put(b, 'u/1', 2)];
    assert.equal(lastWriteWins(ops), ops);
  });
});
