import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RequestContext } from '@elastos/protocol/tokens/token';
import { encodeEnvelope, encodePayload, signingMessage } from '@elastos/protocol/tokens/token-codec';
import { makeTempDir } from '@elastos/testkit';
import { AuditLog } from '../audit/index.js';
import { hasCode } from '../errors/index.js';
import type { SeedKey } from '../keys/seed-key.js';
import { Store } from '../store/index.js';
import { newKey } from './fixtures/new-key.js';
import { StoreAuditSink } from './fixtures/store-audit-sink.js';
import { KeyRing } from './key-ring.js';
import { TokenService } from './token-service.js';

const HOUR = 3600_000;
const ctx: RequestContext = {
  holder: 'photo-editor',
  audience: 'storage',
  resource: 'storage://photos/vacation.jpg',
  action: 'read',
};
const grant = {
  holder: 'photo-editor',
  audience: 'storage',
  resource: 'storage://photos/',
  action: 'read',
  ttlMs: HOUR,
};

describe('token service: the twelve checks, uses, epoch, revocation, delegation', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: Store;
  let audit: StoreAuditSink;
  let tokens: TokenService;
  let now: number;
  /** The monotonic clock of the trusted time (spec §7.1): it moves only while the runtime runs. */
  let mono: number;
  let key: SeedKey;
  before(async () => {
    key = await newKey();
  });
  const open = async () => {
    store = await Store.open(join(dir.path, 'db'));
    audit = new StoreAuditSink(store);
    tokens = await TokenService.open(store, audit, new KeyRing(key), { clock: () => now, monotonic: () => mono });
  };

  beforeEach(async () => {
    dir = makeTempDir();
    now = 1_800_000_000_000;
    mono = 0;
    await open();
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  const rejects = (token: string, code: string, c: Partial<RequestContext> = {}) =>
    assert.throws(
      () => tokens.check(token, { ...ctx, ...c }),
      (e) => hasCode(e, code as never),
    );

  it('accepts a good token, audits the issue and persists the use count with the use', async () => {
    const t = await tokens.issue({ ...grant, maxUses: 5 });
    assert.equal(audit.events.at(-1)?.type, 'token.issue');
    const use = tokens.check(t.encoded, ctx);
    assert.equal(use.resource, 'storage://photos/vacation.jpg');
    assert.equal(use.ops.length, 1);
    await audit.append({ actor: 'capsule:photo-editor', type: 'invoke', tokenId: t.claims.id }, use.ops);
    assert.equal(new TextDecoder().decode(await store.get('counters', `u/${t.claims.id}`)), '1');
  });

  it('refuses wrong holder, wrong audience, out-of-scope, traversal and wrong action with their codes', async () => {
    const t = (await tokens.issue({ ...grant, maxUses: 0 })).encoded;
    rejects(t, 'E_TOKEN_HOLDER', { holder: 'notes' });
    rejects(t, 'E_TOKEN_AUDIENCE', { audience: 'sysinfo' });
    rejects(t, 'E_TOKEN_SCOPE', { resource: 'storage://photos-private/a.jpg' });
    rejects(t, 'E_RESOURCE_INVALID', { resource: 'storage://photos/../secrets/key' });
    rejects(t, 'E_RESOURCE_INVALID', { resource: 'storage://photos/%2e%2e/secrets/key' });
    rejects(t, 'E_RESOURCE_INVALID', { resource: 'storage://photos//a.jpg' });
    rejects(t, 'E_TOKEN_ACTION', { action: 'write' });
    assert.equal(tokens.check(t, ctx).ops.length, 0);
  });

  it('checks scope exactly when the canonical resource comes from the cache', async () => {
    const narrow = (await tokens.issue({ ...grant, resource: 'storage://photos/a/', maxUses: 0 })).encoded;
    const wide = (await tokens.issue({ ...grant, maxUses: 0 })).encoded;
    for (let i = 0; i < 3; i++) {
      assert.equal(
        tokens.check(wide, { ...ctx, resource: 'storage://photos/b/%41.jpg' }).resource,
        'storage://photos/b/A.jpg',
      );
      rejects(narrow, 'E_TOKEN_SCOPE', { resource: 'storage://photos/b/%41.jpg' });
      rejects(wide, 'E_RESOURCE_INVALID', { resource: 'storage://photos/b/../../x' });
    }
  });

  it('refuses not-yet-valid and expired tokens', async () => {
    const t = (await tokens.issue({ ...grant, maxUses: 0 })).encoded;
    now -= 1;
    rejects(t, 'E_TOKEN_NOT_YET_VALID');
    now += 1 + HOUR;
    rejects(t, 'E_TOKEN_EXPIRED');
  });

  it('refuses a forged token and one signed by another key', async () => {
    const t = await tokens.issue({ ...grant, maxUses: 0 });
    const sig = new Uint8Array(t.signature);
    sig[10] = (sig[10] ?? 0) ^ 0x40;
    rejects(encodeEnvelope(t.payload, sig), 'E_TOKEN_SIGNATURE');
    const mallory = await newKey();
    const claims = { ...t.claims, issuer: mallory.keyId };
    const p = encodePayload(claims);
    rejects(encodeEnvelope(p, await mallory.sign(signingMessage(p))), 'E_TOKEN_ISSUER');
    // Same key id claimed, but signed by another key: the signature check catches it.
    const p2 = encodePayload({ ...t.claims, maxUses: 99 });
    rejects(encodeEnvelope(p2, await mallory.sign(signingMessage(p2))), 'E_TOKEN_SIGNATURE');
  });

  it('refuses a validly signed token whose id this runtime never issued (issue 19 item 3)', async () => {
    const t = await tokens.issue({ ...grant, maxUses: 1 });
    const claims = { ...t.claims, id: '5a'.repeat(16) };
    const p = encodePayload(claims);
    rejects(encodeEnvelope(p, await key.sign(signingMessage(p))), 'E_TOKEN_UNKNOWN');
    // The issued-ids record is durable with the issue: a restart still knows t, not the forgery.
    await store.close();
    await open();
    tokens.check(t.encoded, ctx);
    rejects(encodeEnvelope(p, await key.sign(signingMessage(p))), 'E_TOKEN_UNKNOWN');
  });

  it('accepts a retired key only within its grace period', async () => {
    const old = await newKey();
    const ring = new KeyRing(key, [{ keyId: old.keyId, publicKey: old.publicKey, retiredAt: now }], 1000);
    const t = await (await TokenService.open(store, audit, new KeyRing(old), { clock: () => now })).issue({
      ...grant,
      maxUses: 0,
    });
    tokens = await TokenService.open(store, audit, ring, { clock: () => now });
    tokens.check(t.encoded, ctx);
    now += 1001;
    rejects(t.encoded, 'E_TOKEN_ISSUER');
  });

  it('never exceeds max uses under concurrency, and the count survives a restart', async () => {
    const t = (await tokens.issue({ ...grant, maxUses: 10 })).encoded;
    const attempts = Array.from({ length: 40 }, async () => {
      const use = tokens.check(t, ctx);
      await audit.append({ actor: 'capsule:photo-editor', type: 'invoke' }, use.ops);
    });
    const results = await Promise.allSettled(attempts);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
    for (const r of results) if (r.status === 'rejected') assert.ok(hasCode(r.reason, 'E_TOKEN_EXHAUSTED'));
    await store.close();
    await open();
    rejects(t, 'E_TOKEN_EXHAUSTED');
  });

  it('counts only acknowledged uses across a restart when the audit write fails', async () => {
    const t = (await tokens.issue({ ...grant, maxUses: 1 })).encoded;
    audit.failNext = true;
    const use = tokens.check(t, ctx);
    await assert.rejects(audit.append({ actor: 'x', type: 'invoke' }, use.ops), (e) => hasCode(e, 'E_AUDIT_WRITE'));
    rejects(t, 'E_TOKEN_EXHAUSTED'); // fail closed in memory
    await store.close();
    await open();
    tokens.check(t, ctx); // the refused request never happened
  });

  it('bumps the epoch (audited, persisted): every older token stops at once', async () => {
    const t = (await tokens.issue({ ...grant, maxUses: 0 })).encoded;
    assert.equal(await tokens.bumpEpoch('admin:0'), 1);
    assert.equal(audit.events.at(-1)?.type, 'epoch.bump');
    rejects(t, 'E_TOKEN_EPOCH');
    await store.close();
    await open();
    assert.equal(tokens.epoch, 1);
    rejects(t, 'E_TOKEN_EPOCH');
    tokens.check((await tokens.issue({ ...grant, maxUses: 0 })).encoded, ctx);
  });

  it('refuses to hand out a token whose epoch was bumped while it was signed', async () => {
    const pending = tokens.issue({ ...grant, maxUses: 0 });
    await tokens.bumpEpoch('admin:0');
    await assert.rejects(pending, (e) => hasCode(e, 'E_TOKEN_EPOCH'));
  });

  it('revokes one token and its delegated children, persisted; lists only live tokens', async () => {
    const a = await tokens.issue({ ...grant, maxUses: 0 });
    const b = await tokens.issue({ ...grant, maxUses: 3 });
    const child = await tokens.delegate(a.encoded, 'photo-editor', { holder: 'notes' });
    assert.deepEqual(
      tokens
        .list()
        .map((t) => t.id)
        .sort(),
      [a.claims.id, b.claims.id, child.claims.id].sort(),
    );
    await tokens.revoke(a.claims.id, 'admin:0');
    rejects(a.encoded, 'E_TOKEN_REVOKED');
    rejects(child.encoded, 'E_TOKEN_REVOKED', { holder: 'notes' });
    await store.close();
    await open();
    rejects(a.encoded, 'E_TOKEN_REVOKED');
    assert.deepEqual(
      tokens.list().map((t) => t.id),
      [b.claims.id],
    );
    await assert.rejects(tokens.revoke('00'.repeat(16), 'admin:0'), (e) => hasCode(e, 'E_NOT_FOUND'));
  });

  it('delegates only narrower tokens and takes their uses from the parent', async () => {
    const parent = await tokens.issue({ ...grant, maxUses: 3 });
    const child = await tokens.delegate(parent.encoded, 'photo-editor', {
      holder: 'notes',
      resource: 'storage://photos/vacation.jpg',
      maxUses: 2,
    });
    tokens.check(child.encoded, { ...ctx, holder: 'notes' });
    tokens.check(parent.encoded, ctx); // its third use
    rejects(parent.encoded, 'E_TOKEN_EXHAUSTED');
    const widen = (req: object) =>
      assert.rejects(tokens.delegate(parent.encoded, 'photo-editor', { holder: 'notes', maxUses: 1, ...req }), (e) =>
        hasCode(e, 'E_TOKEN_DELEGATION'),
      );
    await widen({ resource: 'storage://' });
    await widen({ action: 'write' });
    await assert.rejects(tokens.delegate(parent.encoded, 'notes', { holder: 'x' }), (e) =>
      hasCode(e, 'E_TOKEN_HOLDER'),
    );
  });

  it('refuses a widened delegated token even when the runtime key signed it', async () => {
    const parent = await tokens.issue({ ...grant, maxUses: 2 });
    const claims = { ...parent.claims, id: 'ab'.repeat(16), holder: 'notes', parent: parent.claims.id };
    for (const widened of [
      { ...claims, resource: 'storage://' },
      { ...claims, expiry: parent.claims.expiry + 1 },
      { ...claims, maxUses: 5 },
      { ...claims, maxUses: 0 },
      { ...claims, parent: 'cd'.repeat(16) },
    ]) {
      const p = encodePayload(widened);
      rejects(encodeEnvelope(p, await key.sign(signingMessage(p))), 'E_TOKEN_DELEGATION', { holder: 'notes' });
    }
  });

  it("reserves a parent's uses before signing: concurrent delegations never overspend it", async () => {
    const parent = await tokens.issue({ ...grant, maxUses: 2 });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => tokens.delegate(parent.encoded, 'photo-editor', { holder: 'notes', maxUses: 1 })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
    for (const r of results) if (r.status === 'rejected') assert.ok(hasCode(r.reason, 'E_TOKEN_EXHAUSTED'));
    rejects(parent.encoded, 'E_TOKEN_EXHAUSTED');
  });

  it('keeps every caveat down the chain, and refuses a signed child that drops one', async () => {
    const parent = await tokens.issue({ ...grant, maxUses: 0, caveats: { audit: 'detail', note: 'x' } });
    const child = await tokens.delegate(parent.encoded, 'photo-editor', { holder: 'notes' });
    assert.deepEqual(child.claims.caveats, { audit: 'detail', note: 'x' });
    const claims = { ...child.claims, id: 'ef'.repeat(16), caveats: { audit: 'detail' } };
    const p = encodePayload(claims);
    rejects(encodeEnvelope(p, await key.sign(signingMessage(p))), 'E_TOKEN_DELEGATION', { holder: 'notes' });
  });

  it('prunes tokens that can never pass again (a day past expiry, or an old epoch) when it loads', async () => {
    const short = await tokens.issue({ ...grant, ttlMs: 1000, maxUses: 2 });
    const long = await tokens.issue({ ...grant, ttlMs: 10 * 24 * HOUR, maxUses: 2 });
    await audit.append({ actor: 'x', type: 'invoke' }, tokens.check(short.encoded, ctx).ops);
    now += 24 * HOUR + 1001;
    mono += 24 * HOUR + 1001; // the runtime ran that long: the trusted time moved with it
    await tokens.close();
    await store.close();
    await open();
    assert.equal(await store.get('tokens', `t/${short.claims.id}`), undefined);
    assert.equal(await store.get('counters', `u/${short.claims.id}`), undefined);
    assert.ok(await store.get('tokens', `t/${long.claims.id}`));
    await tokens.bumpEpoch('admin:0');
    await store.close();
    await open();
    assert.equal(await store.get('tokens', `t/${long.claims.id}`), undefined);
    rejects(long.encoded, 'E_TOKEN_EPOCH');
  });

  it('never prunes on a wall clock a day ahead: a used-up token stays used up (issue 19 item 3)', async () => {
    const t = await tokens.issue({ ...grant, maxUses: 1 });
    await audit.append({ actor: 'x', type: 'invoke' }, tokens.check(t.encoded, ctx).ops);
    now += 25 * HOUR; // one boot with the clock a day ahead
    await tokens.close();
    await store.close();
    await open();
    now -= 25 * HOUR; // the clock is right again, the token within its hour
    await tokens.close();
    await store.close();
    await open();
    rejects(t.encoded, 'E_TOKEN_EXHAUSTED');
  });

  it('refuses an expired token when the wall clock steps back below the trusted time', async () => {
    const t = await tokens.issue({ ...grant, ttlMs: 1000, maxUses: 0 });
    mono += 2000;
    rejects(t.encoded, 'E_TOKEN_EXPIRED');
  });

  it('keeps use counts with the real AuditLog: one batch per use record, exact after a restart', async () => {
    const log = await AuditLog.open(store);
    tokens = await TokenService.open(store, log, new KeyRing(key), { clock: () => now });
    const t = (await tokens.issue({ ...grant, maxUses: 4 })).encoded;
    const uses = await Promise.allSettled(
      Array.from({ length: 9 }, async () => {
        const use = tokens.check(t, ctx);
        return log.append({ actor: 'capsule:photo-editor', type: 'invoke' }, use.ops);
      }),
    );
    assert.equal(uses.filter((u) => u.status === 'fulfilled').length, 4);
    await log.close();
    await store.close();
    await open();
    rejects(t, 'E_TOKEN_EXHAUSTED');
    assert.equal(tokens.list().length, 0);
  });
});
