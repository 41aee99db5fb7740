import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inclusionProof, leafHash, merkleRoot, rootFromProof } from '@elastos/protocol/audit/merkle';
import {
  type AuditRecord,
  chainHash,
  checkEvent,
  decodeRecord,
  encodeRecord,
  fromHex,
  toHex,
} from '@elastos/protocol/audit/record';
import { encode } from 'cborg';
import fc from 'fast-check';
import { hasCode } from '../errors/index.js';

interface Vectors {
  records: Array<{ record: AuditRecord; cbor: string; prev: string; hash: string; leaf: string }>;
  merkle: Array<{ leaves: string[]; root: string }>;
}
const vectors = JSON.parse(readFileSync(new URL('../../spec/audit-vectors.json', import.meta.url), 'utf8')) as Vectors;

describe('audit record (spec/audit.md §1-§3)', () => {
  it('encodes every vector to its canonical bytes and chains the hashes', () => {
    let prev: Uint8Array = new Uint8Array(32);
    for (const v of vectors.records) {
      const bytes = encodeRecord(v.record);
      assert.equal(toHex(bytes), v.cbor);
      assert.equal(toHex(prev), v.prev);
      prev = chainHash(prev, bytes);
      assert.equal(toHex(prev), v.hash);
      assert.equal(toHex(leafHash(bytes)), v.leaf);
      assert.deepEqual(decodeRecord(bytes), v.record);
    }
  });

  it('rejects non-canonical, unknown or malformed records with E_STORE_CORRUPT', () => {
    const bad = [
      encode({ v: 2, seq: 0, time: 0, actor: 'a', type: 't' }),
      encode({ v: 1, seq: -1, time: 0, actor: 'a', type: 't' }),
      encode({ v: 1, seq: 0, time: 0, actor: 'a' }),
      encode({ v: 1, seq: 0, time: 0, actor: 'a', type: 't', extra: 1 }),
      encode({ v: 1, seq: 0, time: 0, actor: 'a', type: 't', decision: 'maybe' }),
      encode({ v: 1, seq: 0, time: 0, actor: 'a', type: 't', code: 'E_NOPE' }),
      encode({ v: 1, seq: 0, time: 0, actor: 'a', type: 't', details: [1] }),
      // Keys in insertion order, not RFC 8949 §4.2.1 order.
      encode({ v: 1, seq: 0, time: 0, actor: 'a', type: 't' }, { mapSorter: () => 0 }),
      encode([1, 2]),
      new Uint8Array([0xa1]),
    ];
    for (const b of bad)
      assert.throws(
        () => decodeRecord(b),
        (e) => hasCode(e, 'E_STORE_CORRUPT'),
      );
  });

  it('never crashes on arbitrary bytes: decodes or rejects with a code', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const r = decodeRecord(bytes);
          assert.deepEqual(encodeRecord(r), bytes);
        } catch (e) {
          assert.ok(hasCode(e, 'E_STORE_CORRUPT'), String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips arbitrary events', () => {
    const event = fc.record(
      {
        actor: fc.string(),
        type: fc.string(),
        resource: fc.string(),
        decision: fc.constantFrom('allow', 'deny', 'ask', 'allow-log'),
        details: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean()), {
          noNullPrototype: true,
        }),
      },
      { requiredKeys: ['actor', 'type'] },
    );
    fc.assert(
      fc.property(event, fc.nat(), (e, seq) => {
        const record = { ...e, v: 1, seq, time: 1 } as AuditRecord;
        assert.deepEqual(decodeRecord(encodeRecord(record)), record);
      }),
    );
  });
});

describe('checkEvent: what the log accepts, the verifier accepts', () => {
  it('lets through only events that decode back exactly', () => {
    const details = fc.dictionary(fc.string(), fc.jsonValue(), { noNullPrototype: true });
    fc.assert(
      fc.property(details, (d) => {
        const event = { actor: 'runtime', type: 't', details: d };
        let accepted = true;
        try {
          checkEvent(event);
        } catch (e) {
          assert.ok(e instanceof TypeError);
          accepted = false;
        }
        if (accepted) {
          const bytes = encodeRecord({ ...event, v: 1, seq: 0, time: 0 });
          assert.deepEqual(encodeRecord(decodeRecord(bytes)), bytes);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses undefined, functions, dates, unsafe integers, bad codes and decisions', () => {
    const bad: unknown[] = [
      { details: { a: undefined } },
      { details: { f: () => 1 } },
      { details: { d: new Date(0) } },
      { details: { n: 2 ** 60 } },
      { details: { n: Number.NaN } },
      { details: [1] },
      { code: 'E_NOPE' },
      { decision: 'maybe' },
      { resource: 5 },
    ];
    for (const extra of bad)
      assert.throws(
        () => checkEvent({ actor: 'a', type: 't', ...(extra as object) }),
        TypeError,
        JSON.stringify(extra),
      );
  });
});

describe('RFC 6962 Merkle tree (spec/audit.md §6)', () => {
  it('matches the certificate-transparency roots', () => {
    for (const v of vectors.merkle) {
      assert.equal(toHex(merkleRoot(v.leaves.map((l) => leafHash(fromHex(l))))), v.root);
    }
  });

  it('gives audit paths that recompute the root, and only for the right leaf', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i])));
      const root = toHex(merkleRoot(leaves));
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(m, leaves);
        assert.equal(toHex(rootFromProof(leaves[m] as Uint8Array, m, n, proof) ?? new Uint8Array()), root);
        if (n > 1) {
          const other = rootFromProof(leaves[(m + 1) % n] as Uint8Array, m, n, proof);
          assert.notEqual(toHex(other ?? new Uint8Array()), root);
        }
      }
    }
  });
});
