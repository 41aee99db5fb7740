import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS_HASH } from '@elastos/protocol/audit/record';
import { makeTempDir } from '@elastos/testkit';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import { walkChain } from './chain-walk.js';

/** A real full disk: a small tmpfs (needs root, as `npm test` on the box and in CI runs). */
function mountSmallTmpfs(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  return () => execFileSync('umount', ['-l', dir]);
}

describe('audit on a full disk (spec/audit.md §5)', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let unmount: () => void;

  beforeEach(() => {
    tmp = makeTempDir();
    unmount = mountSmallTmpfs(join(tmp.path, 'disk'));
  });
  afterEach(() => {
    unmount();
    tmp.remove();
  });

  it('refuses with E_AUDIT_WRITE once the disk is full, and keeps every acknowledged record', async () => {
    const disk = join(tmp.path, 'disk');
    let store = await Store.open(join(disk, 'db'));
    const log = await AuditLog.open(store);
    for (let i = 0; i < 10; i++) await log.append({ actor: 'runtime', type: 'before', details: { i } });
    const { bavail, bsize } = statfsSync(disk);
    writeFileSync(join(disk, 'filler'), new Uint8Array(Math.max(0, bavail * bsize - 32 * 1024)));
    let acked = 9;
    let refused: unknown;
    for (let round = 0; round < 200 && !refused; round++) {
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () =>
          log.append({ actor: 'capsule:x', type: 'invoke', details: { pad: 'x'.repeat(200) } }),
        ),
      );
      for (const r of results) {
        if (r.status === 'fulfilled') acked = Math.max(acked, r.value.seq);
        else refused ??= r.reason;
      }
    }
    assert.ok(hasCode(refused, 'E_AUDIT_WRITE'), `no refusal: ${String(refused)}`);
    assert.match(String(refused), /No space left on device/);
    // Still refused while the disk stays full: fail closed, never acknowledged without a record.
    await assert.rejects(log.append({ actor: 'runtime', type: 'still-full' }), (e) => hasCode(e, 'E_AUDIT_WRITE'));
    await log.close();
    await store.close().catch(() => {});
    rmSync(join(disk, 'filler'));
    store = await Store.open(join(disk, 'db'));
    try {
      let last = -1;
      for await (const r of walkChain(store, { seq: 0, prev: GENESIS_HASH })) last = r.seq;
      assert.ok(last >= acked, `acknowledged ${acked}, the chain ends at ${last}`);
      const again = await AuditLog.open(store);
      assert.equal((await again.append({ actor: 'runtime', type: 'after' })).seq, last + 1);
      await again.close();
    } finally {
      await store.close();
    }
  });
});
