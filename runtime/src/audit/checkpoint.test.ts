import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { leafHash, merkleRoot } from '@elastos/protocol/audit/merkle';
import { fromHex, toHex } from '@elastos/protocol/audit/record';
import fc from 'fast-check';
import { hasCode } from '../errors/index.js';
import {
  checkpointSignatureOk,
  decodeBody,
  foldAnchor,
  type SignedCheckpoint,
  sha256,
  signCheckpoint,
  unpackCheckpoint,
} from './checkpoint.js';
import { TestEd25519Key } from './fixtures/test-key.js';

interface Vectors {
  records: Array<{ cbor: string; hash: string }>;
  checkpoints: {
    secretKey: string;
    publicKey: string;
    list: Array<{ body: string; hash: string; sig: string }>;
    anchor: string[];
  };
}
const vectors = JSON.parse(readFileSync(new URL('../../spec/audit-vectors.json', import.meta.url), 'utf8')) as Vectors;

describe('audit checkpoints (spec/audit.md §6-§7)', () => {
  const v = vectors.checkpoints;
  const signed = (c: { body: string; sig: string }): SignedCheckpoint => {
    const bodyBytes = fromHex(c.body);
    return { body: decodeBody(bodyBytes), bodyBytes, sig: fromHex(c.sig), hash: sha256(bodyBytes) };
  };

  it('decodes, hashes, signs (RFC 8032 key 1) and anchors the vectors', async () => {
    const key = await TestEd25519Key.fromSecret(fromHex(v.secretKey));
    assert.equal(toHex(key.publicKey), v.publicKey);
    let anchor = fromHex(v.anchor[0] as string);
    v.list.forEach((c, i) => {
      assert.equal(toHex(sha256(fromHex(c.body))), c.hash);
      anchor = foldAnchor(anchor, fromHex(c.hash));
      assert.equal(toHex(anchor), v.anchor[i + 1]);
    });
    for (const c of v.list) {
      const s = signed(c);
      assert.equal(await checkpointSignatureOk(s, key.publicKey), true);
      assert.equal(toHex((await signCheckpoint(s.body, key)).sig), c.sig);
      const leaves = vectors.records.slice(s.body.from, s.body.to + 1).map((r) => leafHash(fromHex(r.cbor)));
      assert.equal(toHex(merkleRoot(leaves)), toHex(s.body.root));
      assert.equal(toHex(s.body.head), vectors.records[s.body.to]?.hash);
    }
  });

  it('rejects a signature over another body or under another key', async () => {
    const [c0, c1] = v.list.map(signed) as [SignedCheckpoint, SignedCheckpoint];
    assert.equal(await checkpointSignatureOk({ ...c0, sig: c1.sig }, fromHex(v.publicKey)), false);
    const other = await TestEd25519Key.generate();
    assert.equal(await checkpointSignatureOk(c0, other.publicKey), false);
    assert.equal(await checkpointSignatureOk({ ...c0, sig: new Uint8Array(3) }, fromHex(v.publicKey)), false);
  });

  it('never crashes on arbitrary stored bytes: E_AUDIT_CHECKPOINT', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const f of [decodeBody, unpackCheckpoint]) {
          try {
            f(bytes);
          } catch (e) {
            assert.ok(hasCode(e, 'E_AUDIT_CHECKPOINT'), String(e));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
