import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { chainHash, decodeRecord, encodeRecord } from '@elastos/protocol/audit/record';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { AuditFault } from '@elastos/verifier/audit/audit-fault';
import { encodeBody, packCheckpoint, unpackCheckpoint } from '@elastos/verifier/audit/checkpoint';
import { TpmNvAnchor } from '../boot/nv-anchor.js';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import type { AnchorIndices, AuditAnchor } from './anchor.js';
import { AuditLog } from './audit-log.js';
import { signCheckpoint } from './checkpoint.js';
import type { CheckpointInfo } from './checkpointer.js';
import { TestEd25519Key } from './fixtures/test-key.js';
import { checkpointKey, packRecord, recordKey, unpackRecord } from './layout.js';
import { ToolsAnchor } from './tools-anchor.js';
import { verifyAuditLog } from './verify.js';

const faultAt = (code: string, seq: number) => (e: unknown) => {
  assert.ok(e instanceof AuditFault, String(e));
  assert.equal(e.code, code, e.message);
  assert.equal(e.seq, seq, e.message);
  return true;
};

/** One conformance suite, run against each AuditAnchor implementation on the same swtpm. */
interface AnchorKind {
  name: string;
  open(tcti: string, indices: AnchorIndices): Promise<{ anchor: AuditAnchor; close: () => Promise<void> }>;
}
const KINDS: AnchorKind[] = [
  {
    name: 'tools-backed anchor (tpm2-tools)',
    open: async (tcti, indices) => ({ anchor: await ToolsAnchor.open(tcti, indices), close: async () => {} }),
  },
  {
    name: 'node-tpm2 anchor (in-process ESYS)',
    open: async (tcti, indices) => {
      const tpm = await Tpm.open(tcti);
      return { anchor: await TpmNvAnchor.open(tpm, indices), close: () => tpm.close().catch(() => {}) };
    },
  },
];

for (const kind of KINDS)
  describe(`audit tampering, detected against a real swtpm, ${kind.name} (spec/audit.md §9)`, function () {
    this.timeout(60_000);
    let tmp: ReturnType<typeof makeTempDir>;
    let swtpm: Swtpm;
    let nextIndex = 0x01000b00;
    let key: TestEd25519Key;
    let indices: AnchorIndices;
    let anchor: AuditAnchor;
    let closeAnchor: () => Promise<void> = async () => {};
    let dbPath: string;
    let store: Store;
    let cps: CheckpointInfo[];

    before(async () => {
      tmp = makeTempDir();
      swtpm = new Swtpm(join(tmp.path, 'tpm'));
      await swtpm.start();
      key = await TestEd25519Key.generate();
    });
    after(async () => {
      await swtpm.stop();
      tmp.remove();
    });

    /** A log of `n` records (seq 0..n-1) with checkpoints about every 50, closed (final checkpoint), store reopened. */
    async function build(n: number): Promise<void> {
      indices = { extendIndex: nextIndex, counterIndex: nextIndex + 1 };
      nextIndex += 2;
      ({ anchor, close: closeAnchor } = await kind.open(swtpm.tcti, indices));
      dbPath = join(tmp.path, `db-${nextIndex}`);
      store = await Store.open(dbPath);
      await appendMore(n - 1); // record 0 introduces the key (audit.key): n records in all
    }

    async function appendMore(n: number): Promise<void> {
      const log = await AuditLog.open(store, { checkpoints: { key, anchor, entries: 50, ms: 60_000 } });
      cps = [];
      log.checkpoints?.onCheckpoint((c) => cps.push(c));
      const start = log.head.next;
      for (let i = start; i < start + n; i += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, start + n - i) }, (_, j) =>
            log.append({ actor: 'capsule:t', type: 'invoke', details: { i: i + j } }),
          ),
        );
      }
      await log.close();
    }

    afterEach(async () => {
      await store.close();
      await closeAnchor();
    });

    const verify = () => verifyAuditLog(store, { publicKeys: [key.publicKey], anchor });
    const sub = () => store.ns('audit');

    it('verifies an untouched log, anchored, with checkpoints reported only once anchored', async () => {
      await build(230);
      assert.ok(cps.length >= 2);
      assert.ok(cps.every((c) => c.anchored));
      assert.equal(cps[cps.length - 1]?.to, 229);
      const report = await verify();
      assert.equal(report.records, 230);
      assert.equal(report.anchor, 'anchored');
      assert.equal(report.unchecked, 0);
      assert.equal(report.tpmCounter, cps[cps.length - 1]?.counter);
    });

    it('points at a modified record (E_AUDIT_CHAIN)', async () => {
      await build(230);
      const v = Uint8Array.from((await sub().get(recordKey(77))) as Uint8Array);
      const { hash, bytes } = unpackRecord(v, 77);
      const r = decodeRecord(bytes);
      await sub().put(recordKey(77), packRecord(hash, encodeRecord({ ...r, decision: 'allow' })));
      await assert.rejects(verify(), faultAt('E_AUDIT_CHAIN', 77));
    });

    it('points at the checkpoint range of a modified record whose chain was recomputed (E_AUDIT_CHECKPOINT)', async () => {
      await build(230);
      const range = cps.find((c) => c.from <= 77 && 77 <= c.to) as CheckpointInfo;
      let prev = unpackRecord((await sub().get(recordKey(76))) as Uint8Array, 76).hash;
      for (let seq = 77; seq < 230; seq++) {
        const { bytes } = unpackRecord((await sub().get(recordKey(seq))) as Uint8Array, seq);
        const r = decodeRecord(bytes);
        const forged = encodeRecord(seq === 77 ? { ...r, decision: 'allow' } : r);
        prev = chainHash(prev, forged);
        await sub().put(recordKey(seq), packRecord(prev, forged));
      }
      await assert.rejects(verify(), faultAt('E_AUDIT_CHECKPOINT', range.from));
    });

    it('points at a record deleted from the middle (E_AUDIT_CHAIN)', async () => {
      await build(230);
      await sub().del(recordKey(120));
      await assert.rejects(verify(), faultAt('E_AUDIT_CHAIN', 120));
    });

    it('points at a truncated tail at or before the last anchor (E_AUDIT_TRUNCATED)', async () => {
      await build(230);
      for (let seq = 200; seq < 230; seq++) await sub().del(recordKey(seq));
      await assert.rejects(verify(), faultAt('E_AUDIT_TRUNCATED', 200));
    });

    it('detects the whole store rolled back to an older copy (E_AUDIT_ROLLBACK), and refuses to open it', async () => {
      await build(120);
      const oldLast = cps[cps.length - 1] as CheckpointInfo;
      await store.close();
      const copy = `${dbPath}-copy`;
      cpSync(dbPath, copy, { recursive: true });
      store = await Store.open(dbPath);
      await appendMore(100);
      await store.close();
      rmSync(dbPath, { recursive: true });
      cpSync(copy, dbPath, { recursive: true });
      store = await Store.open(dbPath);
      await assert.rejects(verify(), faultAt('E_AUDIT_ROLLBACK', oldLast.to + 1));
      await assert.rejects(AuditLog.open(store, { checkpoints: { key, anchor, entries: 50, ms: 60_000 } }), (e) =>
        hasCode(e, 'E_AUDIT_ROLLBACK'),
      );
    });

    it('detects a wiped store, or a tail cut together with its checkpoints (E_AUDIT_ROLLBACK)', async () => {
      await build(120);
      const keep = cps[0] as CheckpointInfo;
      for (let seq = keep.to + 1; seq < 120; seq++) await sub().del(recordKey(seq));
      for (let k = 1; k < cps.length; k++) await sub().del(checkpointKey(k));
      await assert.rejects(verify(), faultAt('E_AUDIT_ROLLBACK', keep.to + 1));
      await store.close();
      rmSync(dbPath, { recursive: true });
      store = await Store.open(dbPath);
      await assert.rejects(verify(), faultAt('E_AUDIT_ROLLBACK', 0));
      await assert.rejects(AuditLog.open(store, { checkpoints: { key, anchor, entries: 50, ms: 60_000 } }), (e) =>
        hasCode(e, 'E_AUDIT_ROLLBACK'),
      );
    });

    it('verifies across a runtime key change: the old key is introduced in the log and vouched for by the anchor', async () => {
      await build(60);
      const before = cps[0] as CheckpointInfo;
      const rotated = await TestEd25519Key.generate(); // as after `provision --reseal`
      const log = await AuditLog.open(store, { checkpoints: { key: rotated, anchor, entries: 50, ms: 60_000 } });
      await log.append({ actor: 'runtime', type: 'after-reseal' });
      await log.close();
      const report = await verifyAuditLog(store, { publicKeys: [rotated.publicKey], anchor });
      assert.deepEqual(report.keys, [key.keyId, rotated.keyId]);
      assert.equal(report.anchor, 'anchored');
      // Without the TPM, only trusted keys count.
      await assert.rejects(
        verifyAuditLog(store, { publicKeys: [rotated.publicKey] }),
        faultAt('E_AUDIT_CHECKPOINT', before.from),
      );
      assert.equal(
        (await verifyAuditLog(store, { publicKeys: [key.publicKey, rotated.publicKey] })).anchor,
        'not-checked',
      );
      // Mallory introduces her own key and signs a checkpoint over records she appended: never anchored.
      const mallory = await TestEd25519Key.generate();
      const forged = await AuditLog.open(store, { checkpoints: { key: mallory, entries: 50, ms: 60_000 } });
      await forged.append({ actor: 'runtime', type: 'forged' });
      const tail = forged.head.next;
      await forged.close();
      const fault = await verifyAuditLog(store, { publicKeys: [rotated.publicKey], anchor }).catch((e: unknown) => e);
      assert.ok(fault instanceof AuditFault && fault.code === 'E_AUDIT_CHECKPOINT' && fault.seq < tail, String(fault));
    });

    it('points at a forged checkpoint: another key, or an altered body (E_AUDIT_CHECKPOINT)', async () => {
      await build(230);
      const c1 = unpackCheckpoint((await sub().get(checkpointKey(1))) as Uint8Array);
      const mallory = await TestEd25519Key.generate();
      await sub().put(
        checkpointKey(1),
        packCheckpoint(await signCheckpoint({ ...c1.body, keyId: key.keyId }, mallory)),
      );
      await assert.rejects(verify(), faultAt('E_AUDIT_CHECKPOINT', c1.body.from));
      const altered = { ...c1, bodyBytes: encodeBody({ ...c1.body, time: c1.body.time + 1 }) };
      await sub().put(checkpointKey(1), packCheckpoint(altered));
      await assert.rejects(verify(), faultAt('E_AUDIT_CHECKPOINT', c1.body.from));
    });

    it('completes an anchoring that a TPM outage interrupted, on the next open', async () => {
      await build(60);
      const errors: string[] = [];
      const log = await AuditLog.open(store, {
        checkpoints: { key, anchor, entries: 1000, ms: 60_000, onError: (e) => errors.push(e.code) },
      });
      await log.append({ actor: 'runtime', type: 'x' });
      await swtpm.stop();
      try {
        await assert.rejects(log.checkpoints?.checkpoint() ?? Promise.resolve(), (e) => hasCode(e, 'E_TPM_COMMAND'));
      } finally {
        await swtpm.start();
        await closeAnchor(); // a connection that lost its TPM stays unusable: open a new one
        ({ anchor, close: closeAnchor } = await kind.open(swtpm.tcti, indices));
      }
      assert.deepEqual(errors, ['E_TPM_COMMAND']);
      assert.equal(log.checkpoints?.lastCheckpoint?.anchored, false);
      // Stored, not anchored: reported as pending, not as a fault (the crash window of §7).
      assert.equal((await verify()).anchor, 'pending');
      // The runtime dies here (the log is abandoned); the next open completes the anchoring.
      const again = await AuditLog.open(store, { checkpoints: { key, anchor, entries: 1000, ms: 60_000 } });
      assert.equal(again.checkpoints?.lastCheckpoint?.anchored, true);
      await again.close();
      assert.equal((await verify()).anchor, 'anchored');
    });
  });
