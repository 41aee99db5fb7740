import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { makeTempDir, pollFor, Swtpm } from '@elastos/testkit';
import { AuditFault } from '@elastos/verifier/audit/audit-fault';
import { TpmNvAnchor } from '../boot/nv-anchor.js';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import type { CheckpointInfo } from './checkpointer.js';
import { CountedAnchor } from './fixtures/counted-anchor.js';
import { TestEd25519Key } from './fixtures/test-key.js';
import { checkpointKey, recordKey } from './layout.js';
import { pruneAndAudit, pruneAudit } from './prune.js';
import { verifyAuditLog } from './verify.js';

describe('audit anchor: the NV write budget (spec/audit.md §7.2)', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let swtpm: Swtpm;
  let tpm: Tpm;
  let anchor: CountedAnchor;
  let key: TestEd25519Key;
  let store: Store;
  let nextIndex = 0x01000d00;
  const open = (anchorMs: number, cps: CheckpointInfo[] = []) =>
    AuditLog.open(store, { checkpoints: { key, anchor, entries: 10, ms: 60_000, anchorMs } }).then((log) => {
      log.checkpoints?.onCheckpoint((c) => cps.push(c));
      return log;
    });
  const verify = () => verifyAuditLog(store, { publicKeys: [key.publicKey], anchor });
  const appendN = async (log: AuditLog, n: number) => {
    for (let i = 0; i < n; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => log.append({ actor: 'capsule:t', type: 'invoke', details: { i: i + j } })),
      );
    await log.flush();
  };

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
    anchor = new CountedAnchor(await TpmNvAnchor.open(tpm, { extendIndex: nextIndex, counterIndex: nextIndex + 1 }));
    store = await Store.open(join(tmp.path, `db-${nextIndex}`));
    nextIndex += 2;
  });
  afterEach(() => store.close());

  it('signs a checkpoint every N records but writes NV only when anchorMs has passed, and at close', async () => {
    const cps: CheckpointInfo[] = [];
    const log = await open(60_000, cps);
    for (let i = 0; i < 20; i++) {
      await appendN(log, 10);
      await log.checkpoints?.checkpoint();
    }
    assert.equal(cps.length, 20);
    assert.equal(anchor.writes, 0, 'NV written before anchorMs passed');
    assert.ok(cps.every((c) => !c.anchored));
    const pending = await log.exclusive(verify);
    assert.deepEqual([pending.anchor, pending.unanchored], ['pending', cps.length]);
    await log.close();
    assert.equal(anchor.writes, 2, 'one extend and one increment at close');
    const report = await verify();
    assert.deepEqual([report.anchor, report.unanchored, report.unchecked], ['anchored', 0, 0]);
  });

  it('anchors once anchorMs has passed, without waiting for more records', async () => {
    const log = await open(300);
    await appendN(log, 30);
    await log.checkpoints?.checkpoint();
    await pollFor('the timed anchoring', async () => (log.checkpoints?.lastCheckpoint?.anchored ? true : undefined));
    assert.equal(anchor.writes, 2);
    await log.close();
  });

  it('after a crash, the next start verifies the unanchored run and anchors it with one NV write per index', async () => {
    const first = await open(60_000);
    await appendN(first, 100);
    await first.checkpoints?.checkpoint();
    // kill -9 here: the log is abandoned with a run of checkpoints stored but not anchored.
    const before = anchor.writes;
    const again = await open(60_000);
    assert.equal(anchor.writes - before, 2);
    assert.equal(again.checkpoints?.lastCheckpoint?.anchored, true);
    await again.close();
    assert.equal((await verify()).anchor, 'anchored');
  });

  it('bounds what a power cut leaves undetected: the unanchored run only (§7.2)', async () => {
    const cps: CheckpointInfo[] = [];
    const early = await open(0, cps);
    await appendN(early, 50);
    await early.close();
    const anchoredTo = (cps[cps.length - 1] as CheckpointInfo).to;
    const late = await open(60_000, cps); // as the daemon does: anchor hourly
    await appendN(late, 40);
    await late.checkpoints?.checkpoint();
    // The power is cut (the log is abandoned), and root with the disk cuts the run NV does not cover.
    for (let seq = anchoredTo + 1; seq < late.head.next; seq++) await store.del('audit', recordKey(seq));
    for (const c of cps.filter((c) => c.index > (cps.find((a) => a.to === anchoredTo) as CheckpointInfo).index))
      await store.del('audit', checkpointKey(c.index));
    assert.equal((await verify()).anchor, 'anchored', 'the documented window: nothing outside the disk knew it');
    // One record more, into what NV covers, is detected.
    await store.del('audit', recordKey(anchoredTo));
    await assert.rejects(verify(), (e) => e instanceof AuditFault && e.code === 'E_AUDIT_TRUNCATED');
  });

  it('a prune anchors first: records of an unanchored checkpoint are never pruned', async () => {
    const cps: CheckpointInfo[] = [];
    const log = await open(60_000, cps);
    for (let i = 0; i < 5; i++) {
      await appendN(log, 10);
      await log.checkpoints?.checkpoint();
    }
    const below = (cps[4] as CheckpointInfo).to + 1;
    assert.equal(anchor.writes, 0);
    await assert.rejects(pruneAudit(store, below, -1), (e) => hasCode(e, 'E_AUDIT_PRUNE'));
    await pruneAndAudit(log, below, 'admin:0');
    assert.equal(anchor.writes, 2);
    await log.close();
    assert.equal((await verify()).anchor, 'anchored');
  });
});
