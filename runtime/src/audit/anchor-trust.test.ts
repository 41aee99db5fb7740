import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { leafHash, merkleRoot } from '@elastos/protocol/audit/merkle';
import { chainHash, decodeRecord, encodeRecord, sameBytes } from '@elastos/protocol/audit/record';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { packCheckpoint, unpackCheckpoint } from '@elastos/verifier/audit/checkpoint';
import { TpmNvAnchor } from '../boot/nv-anchor.js';
import { hasCode } from '../errors/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import { Store } from '../store/index.js';
import type { AnchorState, AuditAnchor } from './anchor.js';
import { AuditLog } from './audit-log.js';
import { walkChain } from './chain-walk.js';
import { signCheckpoint } from './checkpoint.js';
import { TestEd25519Key } from './fixtures/test-key.js';
import { keyEvent } from './keyring.js';
import { CHECKPOINT_PREFIX, checkpointKey, lastEntry, packRecord, recordKey, unpackRecord } from './layout.js';
import { verifyAuditLog } from './verify.js';

/**
 * Root with the disk in hand, between two starts of the runtime (spec/audit.md §6.1, §7): what
 * the next start must refuse rather than anchor, so that `audit verify` never answers ok on it.
 */
describe('audit anchor: a start never anchors what it has not verified (spec/audit.md §7.1)', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let swtpm: Swtpm;
  let tpm: Tpm;
  let anchor: AuditAnchor;
  let key: TestEd25519Key;
  let store: Store;
  let nextIndex = 0x01000c00;
  let indices = { extendIndex: 0, counterIndex: 0 };
  const opts = () => ({ checkpoints: { key, anchor, entries: 50, ms: 60_000 } });

  before(async () => {
    tmp = makeTempDir();
    swtpm = new Swtpm(join(tmp.path, 'tpm'));
    await swtpm.start();
    tpm = await Tpm.open(swtpm.tcti);
    key = await TestEd25519Key.generate();
  });
  after(async () => {
    await tpm.close();
    await swtpm.stop();
    tmp.remove();
  });
  beforeEach(async () => {
    indices = { extendIndex: nextIndex, counterIndex: nextIndex + 1 };
    anchor = await TpmNvAnchor.open(tpm, indices);
    store = await Store.open(join(tmp.path, `db-${nextIndex}`));
    nextIndex += 2;
    const log = await AuditLog.open(store, opts());
    for (let i = 0; i < 120; i++) await log.append({ actor: 'capsule:t', type: 'invoke', details: { i } });
    await log.close();
  });
  afterEach(() => store.close());

  /** As root would: more records (through a bare chain), then a checkpoint over them signed by `signer`. */
  async function forgeTail(signer: RuntimeKey, introduce: boolean): Promise<void> {
    const last = unpackCheckpoint(((await lastEntry(store, CHECKPOINT_PREFIX)) as { value: Uint8Array }).value);
    const bare = await AuditLog.open(store);
    const from = bare.head.next;
    await bare.append({ actor: 'admin:0', type: 'capsule.install', resource: 'evil' });
    if (introduce) await bare.append(await keyEvent(signer, last.body.keyId, last.hash));
    await bare.append({ actor: 'runtime', type: 'note' });
    await bare.close();
    const leaves: Uint8Array[] = [];
    let head = last.body.head;
    for await (const r of walkChain(store, { seq: from, prev: last.body.head })) {
      leaves.push(leafHash(r.bytes));
      head = r.hash;
    }
    const body = {
      ...last.body,
      index: last.body.index + 1,
      from,
      to: from + leaves.length - 1,
      count: leaves.length,
      root: merkleRoot(leaves),
      head,
      prev: last.hash,
      counter: last.body.counter + 1,
      keyId: signer.keyId,
    };
    await store.put('audit', checkpointKey(body.index), packCheckpoint(await signCheckpoint(body, signer)));
  }

  /** `n` more records and a checkpoint over them, stored and signed; the TPM is gone before it is anchored. */
  async function storedNotAnchored(n: number): Promise<void> {
    const log = await AuditLog.open(store, opts());
    for (let i = 0; i < n; i++) await log.append({ actor: 'capsule:t', type: 'invoke', details: { late: i } });
    await swtpm.stop();
    try {
      await assert.rejects(log.checkpoints?.checkpoint() ?? Promise.resolve(), (e) => hasCode(e, 'E_TPM_COMMAND'));
    } finally {
      await swtpm.start();
      await tpm.close().catch(() => {}); // a connection that lost its TPM stays unusable
      tpm = await Tpm.open(swtpm.tcti);
      anchor = await TpmNvAnchor.open(tpm, indices);
    }
    // The runtime dies here: the log is abandoned, its checkpoint stored but not anchored.
  }

  const same = (a: AnchorState, b: AnchorState) => sameBytes(a.extend, b.extend) && a.counter === b.counter;

  it('refuses a checkpoint signed by a key that root introduced with its own audit.key record', async () => {
    const mallory = await TestEd25519Key.generate();
    await forgeTail(mallory, true);
    const before = await anchor.read();
    await assert.rejects(AuditLog.open(store, opts()), (e) => hasCode(e, 'E_AUDIT_CHECKPOINT'));
    assert.ok(same(before, await anchor.read()), 'the TPM anchor moved');
    await assert.rejects(verifyAuditLog(store, { publicKeys: [key.publicKey], anchor }), (e) =>
      hasCode(e, 'E_AUDIT_CHECKPOINT'),
    );
  });

  it('refuses a pending checkpoint signed by an unknown key, without an audit.key record', async () => {
    await forgeTail(await TestEd25519Key.generate(), false);
    const before = await anchor.read();
    await assert.rejects(AuditLog.open(store, opts()), (e) => hasCode(e, 'E_AUDIT_CHECKPOINT'));
    assert.ok(same(before, await anchor.read()), 'the TPM anchor moved');
  });

  it("refuses a pending checkpoint of the runtime's own key whose records root rewrote", async () => {
    await storedNotAnchored(20);
    const last = unpackCheckpoint(((await lastEntry(store, CHECKPOINT_PREFIX)) as { value: Uint8Array }).value);
    // Root rewrites one record inside it and recomputes the chain from there.
    let prev = unpackRecord((await store.get('audit', recordKey(last.body.from - 1))) as Uint8Array, 0).hash;
    for (let seq = last.body.from; seq <= last.body.to; seq++) {
      const r = decodeRecord(unpackRecord((await store.get('audit', recordKey(seq))) as Uint8Array, seq).bytes);
      const bytes = encodeRecord(seq === last.body.from + 3 ? { ...r, decision: 'deny' } : r);
      prev = chainHash(prev, bytes);
      await store.put('audit', recordKey(seq), packRecord(prev, bytes));
    }
    const before = await anchor.read();
    await assert.rejects(AuditLog.open(store, opts()), (e) => hasCode(e, 'E_AUDIT_CHECKPOINT'));
    assert.ok(same(before, await anchor.read()), 'the TPM anchor moved');
  });

  it('still completes the anchoring of a genuine pending checkpoint', async () => {
    await storedNotAnchored(1);
    assert.equal((await verifyAuditLog(store, { publicKeys: [key.publicKey], anchor })).anchor, 'pending');
    const again = await AuditLog.open(store, opts());
    await again.close();
    assert.equal((await verifyAuditLog(store, { publicKeys: [key.publicKey], anchor })).anchor, 'anchored');
  });

  it('refuses to start on a trail cut short of its own last checkpoint (E_AUDIT_TRUNCATED)', async () => {
    const last = unpackCheckpoint(((await lastEntry(store, CHECKPOINT_PREFIX)) as { value: Uint8Array }).value);
    for (let seq = last.body.to - 9; seq <= last.body.to; seq++) await store.del('audit', recordKey(seq));
    await assert.rejects(AuditLog.open(store, opts()), (e) => hasCode(e, 'E_AUDIT_TRUNCATED'));
    // Nothing was written over the deleted sequence numbers.
    assert.equal(await store.get('audit', recordKey(last.body.to)), undefined);
  });
});
