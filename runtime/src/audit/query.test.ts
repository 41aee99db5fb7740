import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import { parseSince, tailRecords } from './query.js';

describe('audit tail queries', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let store: Store;
  before(async () => {
    tmp = makeTempDir();
    store = await Store.open(join(tmp.path, 'db'));
    let now = 1_000_000;
    const log = await AuditLog.open(store, { clock: () => (now += 1000) });
    for (let i = 0; i < 30; i++) {
      const actor = i % 3 === 0 ? 'capsule:photos' : 'runtime';
      await log.append({ actor, type: 'invoke', ...(i % 5 === 0 ? { resource: 'capsule:notes' } : {}) });
    }
    await log.close();
  });
  after(async () => {
    await store.close();
    tmp.remove();
  });

  it('gives the newest N oldest first, filters by capsule (actor or resource) and time, follows after a seq', async () => {
    assert.deepEqual(
      (await tailRecords(store, { limit: 3 })).map((r) => r.seq),
      [27, 28, 29],
    );
    assert.deepEqual(
      (await tailRecords(store, { capsule: 'photos', limit: 3 })).map((r) => r.seq),
      [21, 24, 27],
    );
    assert.deepEqual(
      (await tailRecords(store, { capsule: 'notes', limit: 100 })).map((r) => r.seq),
      [0, 5, 10, 15, 20, 25],
    );
    assert.deepEqual(
      (await tailRecords(store, { since: 1_000_000 + 28_000, limit: 100 })).map((r) => r.seq),
      [27, 28, 29],
    );
    assert.deepEqual(
      (await tailRecords(store, { after: 26, limit: 2 })).map((r) => r.seq),
      [27, 28],
    );
  });

  it('reads --since as a duration or a date, else E_USAGE', () => {
    assert.equal(parseSince('10m', 1_000_000), 400_000);
    assert.equal(parseSince('2h', 10_000_000), 10_000_000 - 7_200_000);
    assert.equal(parseSince('2026-11-25T00:00:00Z'), Date.parse('2026-11-25T00:00:00Z'));
    assert.throws(
      () => parseSince('yesterday-ish'),
      (e) => hasCode(e, 'E_USAGE'),
    );
  });
});
