import assert from 'node:assert/strict';
import { GENESIS_HASH, toHex } from '@elastos/protocol/audit/record';
import { AuditFault } from '@elastos/verifier/audit/audit-fault';
import { hasCode } from '../errors/index.js';
import { tempStorePerTest } from '../store/fixtures/temp-store.js';
import type { BatchOp, Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import { walkChain } from './chain-walk.js';
import { recordKey } from './layout.js';

async function chainLength(store: Store): Promise<number> {
  let n = 0;
  for await (const r of walkChain(store, { seq: 0, prev: GENESIS_HASH })) {
    assert.equal(r.seq, n);
    n++;
  }
  return n;
}

describe('AuditLog (spec/audit.md §5)', () => {
  const db = tempStorePerTest();

  it('appends in order, durable and chained, and continues the chain after a reopen', async () => {
    let log = await AuditLog.open(db.store, { clock: () => 1000 });
    const a = await log.append({ actor: 'runtime', type: 'runtime.start' });
    const b = await log.append({ actor: 'capsule:x', type: 'invoke', decision: 'allow', details: { n: 1 } });
    assert.deepEqual([a.seq, b.seq], [0, 1]);
    assert.equal(b.hash, toHex(log.head.hash));
    await log.close();
    await assert.rejects(log.append({ actor: 'runtime', type: 'late' }), (e) => hasCode(e, 'E_AUDIT_WRITE'));
    await db.reopen();
    log = await AuditLog.open(db.store);
    assert.equal(log.head.next, 2);
    assert.equal((await log.append({ actor: 'runtime', type: 'runtime.start' })).seq, 2);
    assert.equal(await chainLength(db.store), 3);
  });

  it('groups concurrent appends into few synced batches and commits their ops atomically', async () => {
    const log = await AuditLog.open(db.store);
    const batches: number[] = [];
    log.onCommit((records) => batches.push(records.length));
    const counters = db.store.ns('counters');
    const receipts = await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        log.append({ actor: `capsule:${i % 7}`, type: 'invoke', tokenId: `t${i}` }, [
          { type: 'put', sublevel: counters, key: `t${i}`, value: new Uint8Array([i & 0xff]) },
        ]),
      ),
    );
    assert.deepEqual(
      receipts.map((r) => r.seq),
      Array.from({ length: 2000 }, (_, i) => i),
    );
    assert.equal(
      batches.reduce((x, y) => x + y, 0),
      2000,
    );
    assert.ok(batches.length < 100, `2000 appends took ${batches.length} synced batches`);
    assert.equal(
      toHex((await db.store.get('counters', 't1999')) ?? new Uint8Array()),
      toHex(new Uint8Array([1999 & 0xff])),
    );
    assert.equal(await chainLength(db.store), 2000);
  });

  it('rejects every waiter of a failed batch with E_AUDIT_WRITE and leaves no gap or fork', async () => {
    const log = await AuditLog.open(db.store);
    await log.append({ actor: 'runtime', type: 'first' });
    // The store refuses the whole batch (an invalid key in one caller's ops): a real failed write.
    const poison = { type: 'put', sublevel: db.store.ns('counters'), key: null, value: new Uint8Array() };
    const results = await Promise.allSettled([
      log.append({ actor: 'a', type: 'x' }),
      log.append({ actor: 'b', type: 'x' }, [poison as unknown as BatchOp]),
      log.append({ actor: 'c', type: 'x' }),
    ]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(hasCode(r.status === 'rejected' ? r.reason : undefined, 'E_AUDIT_WRITE'));
    }
    assert.equal((await log.append({ actor: 'runtime', type: 'after' })).seq, 1);
    assert.equal(await chainLength(db.store), 2);
  });

  it('refuses an event that would not verify, alone, without spending a seq', async () => {
    const log = await AuditLog.open(db.store);
    const [bad, good] = await Promise.allSettled([
      log.append({ actor: 'a', type: 'x', details: { f: () => 1 } }),
      log.append({ actor: 'a', type: 'y' }),
    ]);
    assert.equal(bad.status, 'rejected');
    assert.ok(hasCode(bad.status === 'rejected' ? bad.reason : undefined, 'E_AUDIT_WRITE'));
    assert.equal(good.status === 'fulfilled' ? good.value.seq : -1, 0);
  });

  it('walks to the first bad seq: a modified record, a deleted record', async () => {
    const log = await AuditLog.open(db.store);
    for (let i = 0; i < 10; i++) await log.append({ actor: 'runtime', type: 'tick', details: { i } });
    const sub = db.store.ns('audit');
    const value = (await sub.get(recordKey(4))) as Uint8Array;
    const changed = Uint8Array.from(value);
    changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1;
    await sub.put(recordKey(4), changed);
    await assert.rejects(
      chainLength(db.store),
      (e) => e instanceof AuditFault && e.code === 'E_AUDIT_CHAIN' && e.seq === 4,
    );
    await sub.put(recordKey(4), value);
    await sub.del(recordKey(6));
    await assert.rejects(
      chainLength(db.store),
      (e) => e instanceof AuditFault && e.code === 'E_AUDIT_CHAIN' && e.seq === 6,
    );
  });
});
