import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { leafHash, merkleRoot } from '@elastos/protocol/audit/merkle';
import { fromHex, toHex } from '@elastos/protocol/audit/record';
import { checkpointSignatureOk, decodeBody, type SignedCheckpoint, sha256 } from '@elastos/verifier/audit/checkpoint';
import { foldAnchor, signCheckpoint } from './checkpoint.js';
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
});
