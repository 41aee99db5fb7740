import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { AuditFault } from '@elastos/verifier/audit/audit-fault';
import { type RecordLine, verifyExport } from '@elastos/verifier/audit/export';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import type { CheckpointInfo } from './checkpointer.js';
import { exportRange } from './export.js';
import { TestEd25519Key } from './fixtures/test-key.js';
import { pruneAndAudit, pruneAudit } from './prune.js';
import { tailRecords } from './query.js';
import { verifyAuditLog } from './verify.js';

describe('audit retention and export (spec/audit.md §8, §10)', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let key: TestEd25519Key;
  let cps: CheckpointInfo[];

  async function append(n: number): Promise<void> {
    const log = await AuditLog.open(store, { checkpoints: { key, entries: 10, ms: 60_000 } });
    log.checkpoints?.onCheckpoint((c) => cps.push(c));
    for (let i = 0; i < n; i++) await log.append({ actor: 'runtime', type: 'tick', details: { i } });
    await log.close();
  }

  beforeEach(async () => {
    tmp = makeTempDir();
    store = await Store.open(join(tmp.path, 'db'));
    key = await TestEd25519Key.generate();
    cps = [];
    await append(44); // + the audit.key record: seq 0..44
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  const verify = () => verifyAuditLog(store, { publicKeys: [key.publicKey] });

  it('prunes only below a checkpoint, and the rest still verifies and grows', async () => {
    await assert.rejects(pruneAudit(store, 7), (e) => hasCode(e, 'E_AUDIT_PRUNE'));
    const below = (cps[1] as CheckpointInfo).to + 1;
    const { deleted } = await pruneAudit(store, below);
    assert.equal(deleted, below);
    const report = await verify();
    assert.deepEqual([report.first, report.last, report.checkpoints], [below, 44, cps.length]);
    await assert.rejects(pruneAudit(store, (cps[0] as CheckpointInfo).to + 1), (e) => hasCode(e, 'E_AUDIT_PRUNE'));
    await append(5);
    assert.equal((await verify()).last, 49);
  });

  it('records who pruned what, in the trail itself', async () => {
    const log = await AuditLog.open(store, { checkpoints: { key, entries: 10, ms: 60_000 } });
    const below = (cps[0] as CheckpointInfo).to + 1;
    await pruneAndAudit(log, below, 'admin:0');
    await log.close();
    const [last] = await tailRecords(store, { limit: 1 });
    assert.deepEqual([last?.actor, last?.type, last?.details], ['admin:0', 'audit.prune', { below, deleted: below }]);
    assert.equal((await verify()).first, below);
  });

  it('continues the chain after everything was pruned', async () => {
    const last = cps[cps.length - 1] as CheckpointInfo;
    await pruneAudit(store, last.to + 1);
    await append(3);
    const report = await verify();
    assert.deepEqual([report.first, report.last], [last.to + 1, last.to + 3]);
  });

  it('exports lines an outsider checks with the public key alone, and catches a forgery', async () => {
    const lines = await exportRange(store, 5, 25);
    const records = lines.filter((l): l is RecordLine => l.kind === 'record');
    assert.deepEqual([records[0]?.seq, records[records.length - 1]?.seq], [5, 25]);
    const copy = JSON.parse(JSON.stringify(lines)) as typeof lines;
    const over = cps.filter((c) => c.to >= 5 && c.from <= 25).length;
    assert.deepEqual(await verifyExport(copy, [key.publicKey]), { checkpoints: over, records: 21 });

    const otherKey = await TestEd25519Key.generate();
    await assert.rejects(
      verifyExport(copy, [otherKey.publicKey]),
      (e) => e instanceof AuditFault && e.code === 'E_AUDIT_CHECKPOINT',
    );
    const forged = JSON.parse(JSON.stringify(lines)) as typeof lines;
    const r12 = forged.find((l) => l.kind === 'record' && l.seq === 12) as RecordLine;
    r12.record.details = { i: 99 };
    await assert.rejects(verifyExport(forged, [key.publicKey]), (e) => e instanceof AuditFault && e.seq === 12);
    const swapped = JSON.parse(JSON.stringify(lines)) as typeof lines;
    const r13 = swapped.find((l) => l.kind === 'record' && l.seq === 13) as RecordLine;
    r13.proof = [...r13.proof].reverse();
    await assert.rejects(verifyExport(swapped, [key.publicKey]), (e) => e instanceof AuditFault && e.seq === 13);
  });

  it('refuses to export pruned or unchecked records', async () => {
    await pruneAudit(store, (cps[0] as CheckpointInfo).to + 1);
    await assert.rejects(exportRange(store, 0, 3), (e) => hasCode(e, 'E_NOT_FOUND'));
    const log = await AuditLog.open(store);
    await log.append({ actor: 'runtime', type: 'unchecked' });
    await log.close();
    await assert.rejects(exportRange(store, 45, 45), (e) => hasCode(e, 'E_NOT_FOUND'));
  });
});
