import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type AuditRecord, fromHex, GENESIS_HASH, RECORD_VERSION } from '@elastos/protocol/audit/record';
import { AuditKeyring, KEY_EVENT } from '@elastos/verifier/audit/keyring';
import { signCheckpoint } from './checkpoint.js';
import { TestEd25519Key } from './fixtures/test-key.js';
import { keyEvent } from './keyring.js';

const vectors = JSON.parse(readFileSync(new URL('../../spec/audit-vectors.json', import.meta.url), 'utf8')) as {
  checkpoints: { secretKey: string; list: Array<{ hash: string }> };
  rotation: { details: { previousKeyId: string; after: string } };
};

describe('audit keyring: rotation records (spec/audit.md §6.1)', () => {
  const after = new Uint8Array(32).fill(7);
  const asRecord = (e: { actor: string; type: string; details?: Record<string, unknown> }): AuditRecord => ({
    ...e,
    v: RECORD_VERSION,
    seq: 5,
    time: 0,
  });
  async function signedBy(key: TestEd25519Key) {
    return signCheckpoint(
      {
        v: 1,
        index: 1,
        from: 6,
        to: 6,
        count: 1,
        root: GENESIS_HASH,
        head: GENESIS_HASH,
        prev: after,
        counter: 2,
        time: 0,
        keyId: key.keyId,
      },
      key,
    );
  }

  it('learns a key from its own signed record, bound to the checkpoint before it', async () => {
    const key = await TestEd25519Key.generate();
    const ring = new AuditKeyring([]);
    await ring.learn(asRecord(await keyEvent(key, 'previous0000000', after)), after);
    assert.equal(await ring.check(await signedBy(key)), undefined);
  });

  it('signs the rotation vector exactly (RFC 8032 key 1)', async () => {
    const v = vectors.rotation;
    const key = await TestEd25519Key.fromSecret(fromHex(vectors.checkpoints.secretKey));
    const after = fromHex(v.details.after);
    assert.equal(v.details.after, vectors.checkpoints.list[vectors.checkpoints.list.length - 1]?.hash);
    assert.deepEqual((await keyEvent(key, v.details.previousKeyId, after)).details, v.details);
    const ring = new AuditKeyring([]);
    await ring.learn(asRecord({ actor: 'runtime', type: KEY_EVENT, details: v.details }), after);
    assert.equal(await ring.check(await signedBy(key)), undefined);
  });

  it('learns nothing from an unsigned record, a record bound elsewhere, or one signed by another key', async () => {
    const key = await TestEd25519Key.generate();
    const other = await TestEd25519Key.generate();
    const good = await keyEvent(key, undefined, after);
    const d = good.details as Record<string, unknown>;
    const { sig: _sig, ...unsigned } = d;
    const forgedSig = (await keyEvent(other, undefined, after)).details?.sig;
    const cases: Array<[Record<string, unknown>, Uint8Array]> = [
      [unsigned, after],
      [d, GENESIS_HASH], // replayed after another checkpoint
      [{ ...d, after: '00'.repeat(32) }, GENESIS_HASH], // re-bound without a new signature
      [{ ...d, sig: forgedSig }, after],
      [{ ...d, previousKeyId: 'someoneelse0000' }, after],
      [{ ...d, publicKey: 'zz' }, after],
    ];
    for (const [details, at] of cases) {
      const ring = new AuditKeyring([]);
      await ring.learn(asRecord({ actor: 'runtime', type: KEY_EVENT, details }), at);
      assert.match((await ring.check(await signedBy(key))) ?? 'learned', /neither trusted nor introduced/);
    }
  });
});
