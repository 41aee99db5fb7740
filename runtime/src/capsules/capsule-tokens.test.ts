import assert from 'node:assert/strict';
import { join } from 'node:path';
import { GENESIS_HASH } from '@elastos/protocol/audit/record';
import type { CapsuleManifest } from '@elastos/protocol/capsules/manifest';
import type { RequestContext } from '@elastos/protocol/tokens/token';
import { buildPackage, signPackage } from '@elastos/publisher';
import { makeTempDir } from '@elastos/testkit';
import { getPublicKeyAsync } from '@noble/ed25519';
import { AuditLog, walkChain } from '../audit/index.js';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { newKey } from '../tokens/fixtures/new-key.js';
import { KeyRing } from '../tokens/key-ring.js';
import { TokenService } from '../tokens/token-service.js';
import { CapsuleIdentities } from './capsule-identity.js';
import { CapsuleManager } from './capsule-manager.js';
import { EXAMPLE_FILES, exampleManifest, fileMap, PUBLISHER_SEED, UNTRUSTED_SEED } from './fixtures/vectors.js';
import { addTrustedKey, publicKeyEntry } from './trust-store.js';

const seed = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const pkg = (change: Partial<CapsuleManifest> = {}, key = PUBLISHER_SEED) =>
  signPackage(buildPackage({ ...exampleManifest('0000000000000000'), ...change }, fileMap(EXAMPLE_FILES)), seed(key));
const grant = { holder: 'photo-editor', audience: 'storage', resource: 'storage://photos/', action: 'read' };
const ctx: RequestContext = { ...grant, resource: 'storage://photos/a.jpg' };

describe('tokens are bound to a capsule identity: remove and reinstall (issue 19 item 7)', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: Store;
  let audit: AuditLog;
  let tokens: TokenService;
  let identities: CapsuleIdentities;
  let capsules: CapsuleManager;
  const opts = () => ({ stateDir: join(dir.path, 'state'), trustDir: join(dir.path, 'trust'), store, audit });
  const refused = (token: string, c: Partial<RequestContext> = {}) =>
    assert.throws(
      () => tokens.check(token, { ...ctx, ...c }),
      (e) => hasCode(e, 'E_TOKEN_HOLDER') || hasCode(e, 'E_TOKEN_AUDIENCE') || hasCode(e, 'E_TOKEN_REVOKED'),
    );

  beforeEach(async () => {
    dir = makeTempDir();
    for (const [name, s] of [
      ['first', PUBLISHER_SEED],
      ['second', UNTRUSTED_SEED],
    ] as const) {
      const hex = Buffer.from(await getPublicKeyAsync(seed(s))).toString('hex');
      addTrustedKey(join(dir.path, 'trust'), publicKeyEntry(name, hex));
    }
    store = await Store.open(join(dir.path, 'state', 'store'));
    audit = await AuditLog.open(store);
    identities = await CapsuleIdentities.load(store);
    tokens = await TokenService.open(store, audit, new KeyRing(await newKey()), {
      identities: (n) => identities.get(n),
    });
    capsules = new CapsuleManager({ ...opts(), identities, tokens });
  });
  afterEach(async () => {
    await audit.close();
    await store.close();
    dir.remove();
  });

  it('revokes the tokens of a removed capsule; its name reinstalled by another publisher inherits nothing', async () => {
    await capsules.install(await pkg());
    const held = await tokens.issue({ ...grant, ttlMs: 60_000, maxUses: 0 });
    const served = await tokens.issue({
      ...grant,
      holder: 'notes',
      audience: 'photo-editor',
      ttlMs: 60_000,
      maxUses: 0,
    });
    tokens.check(held.encoded, ctx);
    tokens.check(served.encoded, { ...ctx, holder: 'notes', audience: 'photo-editor' });
    await capsules.remove('photo-editor');
    refused(held.encoded);
    refused(served.encoded, { holder: 'notes', audience: 'photo-editor' });
    assert.ok(await store.get('tokens', `r/${held.claims.id}`), 'the revocation is durable');
    let removal: Record<string, unknown> | undefined;
    for await (const r of walkChain(store, { seq: 0, prev: GENESIS_HASH }))
      if (r.record.type === 'capsule.remove') removal = r.record.details;
    assert.deepEqual(new Set(removal?.revokedTokens as string[]), new Set([held.claims.id, served.claims.id]));
    await capsules.install(await pkg({ version: '9.0.0' }, UNTRUSTED_SEED));
    refused(held.encoded);
    refused(served.encoded, { holder: 'notes', audience: 'photo-editor' });
  });

  it('refuses old tokens after a remove made while no runtime ran, and keeps them across an upgrade', async () => {
    await capsules.install(await pkg());
    const t = await tokens.issue({ ...grant, ttlMs: 60_000, maxUses: 0 });
    await capsules.install(await pkg({ version: '1.1.0' }));
    tokens.check(t.encoded, ctx); // same publisher, same install: an upgrade keeps its tokens
    await new CapsuleManager(opts()).remove('photo-editor'); // offline: no token service
    await new CapsuleManager(opts()).install(await pkg({ version: '2.0.0' }, UNTRUSTED_SEED));
    identities = await CapsuleIdentities.load(store); // the runtime starts again
    refused(t.encoded);
    // The next runtime install of the name revokes leftovers too (here: after another offline remove).
    await new CapsuleManager(opts()).remove('photo-editor');
    await capsules.install(await pkg());
    assert.ok(await store.get('tokens', `r/${t.claims.id}`));
  });
});
