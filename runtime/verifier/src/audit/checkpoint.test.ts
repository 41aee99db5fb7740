import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex } from '@elastos/protocol/audit/record';
import { hasCode } from '@elastos/protocol/errors';
import { getPublicKeyAsync, utils } from '@noble/ed25519';
import fc from 'fast-check';
import { checkpointSignatureOk, decodeBody, type SignedCheckpoint, sha256, unpackCheckpoint } from './checkpoint.js';

interface Vectors {
  checkpoints: { publicKey: string; list: Array<{ body: string; hash: string; sig: string }> };
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../spec/audit-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

describe('verifier: audit checkpoints (spec/audit.md §6)', () => {
  const v = vectors.checkpoints;
  const signed = (c: { body: string; sig: string }): SignedCheckpoint => {
    const bodyBytes = fromHex(c.body);
    return { body: decodeBody(bodyBytes), bodyBytes, sig: fromHex(c.sig), hash: sha256(bodyBytes) };
  };

  it('accepts the vectors under their key', async () => {
    for (const c of v.list) assert.equal(await checkpointSignatureOk(signed(c), fromHex(v.publicKey)), true);
  });

  it('rejects a signature over another body or under another key', async () => {
    const [c0, c1] = v.list.map(signed) as [SignedCheckpoint, SignedCheckpoint];
    assert.equal(await checkpointSignatureOk({ ...c0, sig: c1.sig }, fromHex(v.publicKey)), false);
    const other = await getPublicKeyAsync(utils.randomSecretKey());
    assert.equal(await checkpointSignatureOk(c0, other), false);
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
