import assert from 'node:assert/strict';
import { GENESIS_HASH } from '@elastos/protocol/audit/record';
import { tempStorePerTest } from '../store/fixtures/temp-store.js';
import type { BatchOp, Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import { walkChain } from './chain-walk.js';

/** A real store whose synced batches finish only when the test says so. */
function gatedStore(store: Store) {
  const log: string[] = [];
  const gates: Array<() => void> = [];
  const real = store.batch.bind(store);
  store.batch = async (ops: BatchOp[], options?: { sync?: boolean }) => {
    const n = ops.filter((o) => o.key.startsWith('r/')).length;
    log.push(`write ${n}`);
    await new Promise<void>((r) => gates.push(r));
    await real(ops, options);
    log.push(`durable ${n}`);
  };
  return { log, open: () => (gates.shift() as () => void)(), pending: () => gates.length };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('AuditLog pipelining (spec/audit.md §5)', () => {
  const db = tempStorePerTest();

  it('hands batch N+1 to the store before answering N, keeps one batch in flight, answers none before its own sync', async () => {
    const gate = gatedStore(db.store);
    const log = await AuditLog.open(db.store);
    const answered: number[] = [];
    const append = (i: number) =>
      log.append({ actor: 'runtime', type: `t${i}` }).then((r) => {
        answered.push(r.seq);
        gate.log.push(`answer ${r.seq}`);
      });
    const first = [append(0), append(1)];
    await tick();
    const second = [append(2), append(3), append(4)];
    await tick();
    assert.equal(gate.pending(), 1, 'one batch in flight while the next waits');
    assert.deepEqual(answered, []);
    gate.open();
    while (gate.pending() === 0) await tick();
    assert.deepEqual(gate.log.slice(0, 3), ['write 2', 'durable 2', 'write 3']);
    await Promise.all(first);
    assert.deepEqual(answered, [0, 1], 'batch N answered only after its own sync, batch N+1 not yet');
    gate.open();
    await Promise.all(second);
    assert.deepEqual(answered, [0, 1, 2, 3, 4]);
    assert.deepEqual(gate.log, [
      'write 2',
      'durable 2',
      'write 3',
      'answer 0',
      'answer 1',
      'durable 3',
      'answer 2',
      'answer 3',
      'answer 4',
    ]);
    let n = 0;
    for await (const r of walkChain(db.store, { seq: 0, prev: GENESIS_HASH })) assert.equal(r.seq, n++);
    assert.equal(n, 5);
  });
});
