import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { AuditLog, verifyAuditLog } from '../audit/index.js';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { newKey } from './fixtures/new-key.js';
import { KeyRing } from './key-ring.js';
import { TokenService } from './token-service.js';
import { verifyTokenState } from './token-state-check.js';

const grant = {
  holder: 'photo-editor',
  audience: 'storage',
  resource: 'storage://photos/',
  action: 'read',
  ttlMs: 3600_000,
};
const ctx = { ...grant, resource: 'storage://photos/a.jpg' };
const enc = (s: string) => new TextEncoder().encode(s);

describe('audit verify covers the token state: revocations, epoch, use counters (issue 19 item 3)', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: Store;
  let log: AuditLog;
  let tokens: TokenService;
  const verify = () => verifyAuditLog(store, { publicKeys: [], stateChecks: [verifyTokenState] });
  const rollback = () => assert.rejects(verify(), (e) => hasCode(e, 'E_AUDIT_ROLLBACK'));

  beforeEach(async () => {
    dir = makeTempDir();
    store = await Store.open(join(dir.path, 'db'));
    log = await AuditLog.open(store);
    tokens = await TokenService.open(store, log, new KeyRing(await newKey()));
  });
  afterEach(async () => {
    await log.close();
    await store.close();
    dir.remove();
  });

  /** Uses, a delegation, a revocation and two epoch bumps, each audited as the runtime does. */
  async function history() {
    const counted = await tokens.issue({ ...grant, maxUses: 5 });
    for (let i = 0; i < 2; i++) {
      const use = tokens.check(counted.encoded, ctx);
      await log.append(
        { actor: 'capsule:photo-editor', type: 'invoke', decision: 'allow', tokenId: counted.claims.id },
        use.ops,
      );
    }
    await tokens.delegate(counted.encoded, 'photo-editor', { holder: 'notes', maxUses: 2 });
    const revoked = await tokens.issue({ ...grant, maxUses: 0 });
    await tokens.revoke(revoked.claims.id, 'admin:0');
    await tokens.bumpEpoch('admin:0');
    await tokens.bumpEpoch('admin:0');
    return { counted: counted.claims.id, revoked: revoked.claims.id };
  }

  it('answers ok on an untouched store and reports what it checked', async () => {
    await history();
    const report = await verify();
    assert.deepEqual(report.state, [{ revocations: 1, countedTokens: 1, epoch: 2 }]);
  });

  it('catches a deleted revocation mark', async () => {
    const { revoked } = await history();
    await store.del('tokens', `r/${revoked}`, { sync: true });
    await rollback();
  });

  it('catches a lowered epoch', async () => {
    await history();
    await store.put('meta', 'tokens.epoch', enc('1'), { sync: true });
    await rollback();
  });

  it('catches a counter reset or lowered below its audited uses (2 invokes + 2 delegated)', async () => {
    const { counted } = await history();
    await store.put('counters', `u/${counted}`, enc('3'), { sync: true });
    await rollback();
    await store.del('counters', `u/${counted}`, { sync: true });
    await rollback();
    await store.put('counters', `u/${counted}`, enc('4'), { sync: true });
    await verify();
  });
});
