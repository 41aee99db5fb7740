import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { TpmNvCounter } from '../boot/nv-counter.js';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { newKey } from './fixtures/new-key.js';
import { StoreAuditSink } from './fixtures/store-audit-sink.js';
import { KeyRing } from './key-ring.js';
import { TokenService } from './token-service.js';

const grant = {
  holder: 'photo-editor',
  audience: 'storage',
  resource: 'storage://photos/',
  action: 'read',
  ttlMs: 3600_000,
};
const ctx = { ...grant, resource: 'storage://photos/a.jpg' };

describe('the epoch floor is a TPM NV counter, on a real swtpm (issue 19 item 3, token.md §8.1)', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let swtpm: Swtpm;
  let tpm: Tpm;
  before(async () => {
    tmp = makeTempDir();
    swtpm = new Swtpm(join(tmp.path, 'tpm'));
    await swtpm.start();
    tpm = await Tpm.open(swtpm.tcti);
  });
  after(async () => {
    await tpm.close().catch(() => {});
    await swtpm.stop();
    tmp.remove();
  });

  it('a store rolled back to before an epoch bump cannot bring the old epoch back', async () => {
    const counter = await TpmNvCounter.open(tpm, 0x01000c10);
    const key = await newKey();
    const db = join(tmp.path, 'db');
    const open = async () => {
      const store = await Store.open(db);
      const tokens = await TokenService.open(store, new StoreAuditSink(store), new KeyRing(key), {
        epochCounter: counter,
      });
      return { store, tokens };
    };
    let { store, tokens } = await open();
    const first = tokens.epoch;
    assert.equal(first, await counter.read());
    const t = await tokens.issue({ ...grant, maxUses: 0 });
    tokens.check(t.encoded, ctx);
    await store.close();
    cpSync(db, join(tmp.path, 'db-before-bump'), { recursive: true }); // root keeps a copy of the disk
    ({ store, tokens } = await open());
    assert.equal(await tokens.bumpEpoch('admin:0'), first + 1);
    assert.equal(await counter.read(), first + 1);
    assert.throws(
      () => tokens.check(t.encoded, ctx),
      (e) => hasCode(e, 'E_TOKEN_EPOCH'),
    );
    await store.close();
    rmSync(db, { recursive: true });
    cpSync(join(tmp.path, 'db-before-bump'), db, { recursive: true }); // ... and puts it back
    ({ store, tokens } = await open());
    assert.equal(tokens.epoch, first + 1);
    assert.throws(
      () => tokens.check(t.encoded, ctx),
      (e) => hasCode(e, 'E_TOKEN_EPOCH') || hasCode(e, 'E_TOKEN_UNKNOWN'),
    );
    await store.close();
  });

  it('serialises the increment and its read: concurrent bumps each get their own epoch', async () => {
    const counter = await TpmNvCounter.open(tpm, 0x01000c11);
    const start = await counter.read();
    const values = await Promise.all(Array.from({ length: 4 }, () => counter.increment()));
    assert.deepEqual(
      values.sort((a, b) => a - b),
      [start + 1, start + 2, start + 3, start + 4],
    );
  });
});
