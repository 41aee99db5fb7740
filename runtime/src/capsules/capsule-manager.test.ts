import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type AuditRecord, GENESIS_HASH } from '@elastos/protocol/audit/record';
import type { CapsuleManifest } from '@elastos/protocol/capsules/manifest';
import {
  capsuleId,
  contentDigest,
  decodePackage,
  encodePackage,
  MAX_PACKAGE_BYTES,
} from '@elastos/protocol/capsules/package-codec';
import { buildPackage, signPackage } from '@elastos/publisher';
import { makeTempDir } from '@elastos/testkit';
import { getPublicKeyAsync } from '@noble/ed25519';
import { AuditLog, walkChain } from '../audit/index.js';
import { hasCode } from '../errors/index.js';
import { Store } from '../store/index.js';
import { CapsuleManager } from './capsule-manager.js';
import {
  EXAMPLE_FILES,
  exampleManifest,
  fileMap,
  PUBLISHER_SEED,
  signedRaw,
  UNTRUSTED_SEED,
} from './fixtures/vectors.js';
import { readPackage } from './package-file.js';
import { addTrustedKey, keyIdOf, publicKeyEntry, removeTrustedKey } from './trust-store.js';

/** The audit trail as committed (real AuditLog, read back through the hash-chain walk). */
async function auditEvents(store: Store): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of walkChain(store, { seq: 0, prev: GENESIS_HASH })) out.push(r.record);
  return out;
}

const seed = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

async function pkg(change: Partial<CapsuleManifest> = {}, files = EXAMPLE_FILES, key = PUBLISHER_SEED) {
  const manifest = { ...exampleManifest('0000000000000000'), ...change };
  return signPackage(buildPackage(manifest, fileMap(files)), seed(key));
}

describe('CapsuleManager: install, re-verify at boot, upgrade, rollback, remove', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: Store;
  let audit: AuditLog;
  let capsules: CapsuleManager;
  let trustDir: string;

  beforeEach(async () => {
    dir = makeTempDir();
    trustDir = join(dir.path, 'trust');
    addTrustedKey(
      trustDir,
      publicKeyEntry('test publisher', Buffer.from(await getPublicKeyAsync(seed(PUBLISHER_SEED))).toString('hex')),
    );
    store = await Store.open(join(dir.path, 'state', 'store'));
    audit = await AuditLog.open(store);
    capsules = new CapsuleManager({ stateDir: join(dir.path, 'state'), trustDir, store, audit });
  });
  afterEach(async () => {
    await audit.close();
    await store.close();
    dir.remove();
  });

  const refusedCodes = async () =>
    (await auditEvents(store)).filter((e) => e.type === 'capsule.refused').map((e) => e.code);

  it('refuses a package path that is not a regular file, or too large, before reading it (audited)', async () => {
    const fifo = join(dir.path, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir.path, 'big.capsule');
    writeFileSync(big, '');
    truncateSync(big, MAX_PACKAGE_BYTES + 1); // sparse: costs nothing unless read
    for (const path of ['/dev/zero', fifo, big, dir.path]) {
      await assert.rejects(
        capsules.install(() => readPackage(path), 'admin:0'),
        { code: 'E_CAPSULE_INVALID' },
        path,
      );
    }
    assert.deepEqual(await refusedCodes(), Array(4).fill('E_CAPSULE_INVALID'));
    const ok = join(dir.path, 'ok.capsule');
    writeFileSync(ok, await pkg());
    assert.equal((await capsules.install(() => readPackage(ok))).name, 'photo-editor');
  });

  it('installs a signed package read-only and hands the supervisor what it needs', async () => {
    const summary = await capsules.install(await pkg(), 'admin:0');
    const c = await capsules.loadInstalled('photo-editor');
    assert.equal(c.id, summary.id);
    assert.equal(c.entry, 'main.js');
    assert.deepEqual(c.limits, { memoryMiB: 64, pids: 16, cpuPercent: 50 });
    assert.equal(c.network, false);
    assert.equal(c.codeDir, join(dir.path, 'state', 'capsules', 'photo-editor', c.id, 'code'));
    assert.equal(c.dataDir, join(dir.path, 'state', 'capsules', 'photo-editor', 'data'));
    assert.equal(readFileSync(join(c.codeDir, 'lib', 'edit.js'), 'utf8'), EXAMPLE_FILES['lib/edit.js']);
    assert.equal(statSync(join(c.codeDir, 'main.js')).mode & 0o777, 0o444);
    assert.equal(statSync(join(c.codeDir, 'lib')).mode & 0o777, 0o555);
    assert.deepEqual(
      (await auditEvents(store)).map((e) => [e.type, e.actor]),
      [['capsule.install', 'admin:0']],
    );
    assert.deepEqual(
      (await capsules.list()).map((s) => [s.name, s.version, s.previous]),
      [['photo-editor', '1.0.0', null]],
    );
  });

  it('refuses a package with one byte changed, unsigned, from an untrusted key, or widened after signing', async () => {
    const good = await pkg();
    const flipped = new Uint8Array(good);
    const at = Buffer.from(flipped).indexOf('editing');
    flipped[at] = (flipped[at] ?? 0) ^ 1;
    await assert.rejects(capsules.install(flipped), (e) => hasCode(e, 'E_CAPSULE_HASH'));
    const unsigned = buildPackage(exampleManifest('0000000000000000'), fileMap(EXAMPLE_FILES));
    await assert.rejects(capsules.install(unsigned), (e) => hasCode(e, 'E_CAPSULE_SIGNATURE'));
    await assert.rejects(capsules.install(await pkg({}, EXAMPLE_FILES, UNTRUSTED_SEED)), (e) =>
      hasCode(e, 'E_CAPSULE_UNTRUSTED'),
    );
    // Widen the manifest of a signed package, re-hash, keep its signature: the signature covers the manifest.
    const decoded = decodePackage(good);
    const manifest = JSON.parse(new TextDecoder().decode(decoded.manifest)) as CapsuleManifest;
    const content = {
      manifest: new TextEncoder().encode(JSON.stringify({ ...manifest, network: true })),
      files: decoded.files,
    };
    const widened = encodePackage({ ...content, id: capsuleId(contentDigest(content)), signature: decoded.signature });
    await assert.rejects(capsules.install(widened), (e) => hasCode(e, 'E_CAPSULE_SIGNATURE'));
    assert.deepEqual(await refusedCodes(), [
      'E_CAPSULE_HASH',
      'E_CAPSULE_SIGNATURE',
      'E_CAPSULE_UNTRUSTED',
      'E_CAPSULE_SIGNATURE',
    ]);
    assert.deepEqual(await capsules.list(), []);
    assert.equal(existsSync(join(dir.path, 'state', 'capsules', 'photo-editor')), false);
  });

  it('refuses an oversized or invalid manifest', async () => {
    await assert.rejects(pkg({ description: 'x'.repeat(300) }), (e) => hasCode(e, 'E_CAPSULE_INVALID'));
    const caps = Array.from({ length: 64 }, (_, i) => ({
      resource: `storage://${'p'.repeat(300)}/${i}`,
      actions: ['read'],
    }));
    await assert.rejects(pkg({ capabilities: caps }), (e) => hasCode(e, 'E_CAPSULE_INVALID'));
    const manifest = { ...exampleManifest(keyIdOf(await getPublicKeyAsync(seed(PUBLISHER_SEED)))), capabilities: caps };
    const big = await signedRaw(
      { manifest: new TextEncoder().encode(JSON.stringify(manifest)), files: fileMap(EXAMPLE_FILES) },
      seed(PUBLISHER_SEED),
    );
    await assert.rejects(
      capsules.install(big),
      (e) => hasCode(e, 'E_CAPSULE_INVALID') && /cap 16384/.test((e as Error).message),
    );
    const bad = await signedRaw(
      { manifest: new TextEncoder().encode('{"name":"x"}'), files: fileMap(EXAMPLE_FILES) },
      seed(PUBLISHER_SEED),
    );
    await assert.rejects(capsules.install(bad), (e) => hasCode(e, 'E_CAPSULE_INVALID'));
    assert.deepEqual(await refusedCodes(), ['E_CAPSULE_INVALID', 'E_CAPSULE_INVALID']);
  });

  it('refuses a duplicate name unless it is a newer version from the same publisher, which keeps the data', async () => {
    const v1 = await capsules.install(await pkg());
    const dataFile = join(dir.path, 'state', 'capsules', 'photo-editor', 'data', 'album.txt');
    writeFileSync(dataFile, 'my album');
    await assert.rejects(capsules.install(await pkg()), (e) => hasCode(e, 'E_CAPSULE_EXISTS'));
    await assert.rejects(capsules.install(await pkg({ description: 'same version, other content' })), (e) =>
      hasCode(e, 'E_CAPSULE_EXISTS'),
    );
    addTrustedKey(
      trustDir,
      publicKeyEntry('other', Buffer.from(await getPublicKeyAsync(seed(UNTRUSTED_SEED))).toString('hex')),
    );
    await assert.rejects(capsules.install(await pkg({ version: '2.0.0' }, EXAMPLE_FILES, UNTRUSTED_SEED)), (e) =>
      hasCode(e, 'E_CAPSULE_EXISTS'),
    );
    const v2 = await capsules.install(await pkg({ version: '1.1.0' }, { ...EXAMPLE_FILES, 'main.js': 'export {};\n' }));
    assert.equal(v2.previous?.id, v1.id);
    assert.equal(readFileSync(dataFile, 'utf8'), 'my album');
    assert.equal((await capsules.loadInstalled('photo-editor')).id, v2.id);
    await assert.rejects(capsules.install(await pkg({ version: '1.0.1' })), (e) => hasCode(e, 'E_CAPSULE_EXISTS'));
    assert.deepEqual(await refusedCodes(), Array(4).fill('E_CAPSULE_EXISTS'));
  });

  it('rolls back to the previous version and keeps one previous version on disk', async () => {
    const v1 = await capsules.install(await pkg());
    const v2 = await capsules.install(await pkg({ version: '1.1.0' }));
    const back = await capsules.rollback('photo-editor');
    assert.equal(back.id, v1.id);
    assert.equal(back.previous?.id, v2.id);
    assert.equal((await capsules.loadInstalled('photo-editor')).version, '1.0.0');
    // The version rolled back from installs again (it is newer than the current one).
    assert.equal((await capsules.install(await pkg({ version: '1.1.0' }))).id, v2.id);
    await capsules.rollback('photo-editor');
    const v3 = await capsules.install(await pkg({ version: '1.2.0' }));
    assert.equal(v3.previous?.id, v1.id);
    assert.equal(existsSync(join(dir.path, 'state', 'capsules', 'photo-editor', v2.id)), false);
    await capsules.remove('photo-editor');
    await assert.rejects(capsules.rollback('photo-editor'), (e) => hasCode(e, 'E_NOT_FOUND'));
    await capsules.install(await pkg());
    await assert.rejects(capsules.rollback('photo-editor'), (e) => hasCode(e, 'E_CAPSULE_NO_PREVIOUS'));
    await assert.rejects(capsules.remove('../etc'), (e) => hasCode(e, 'E_NOT_FOUND'));
  });

  it('refuses at boot an installed capsule with one byte changed on disk, an added file, or an edited manifest', async () => {
    const { id } = await capsules.install(await pkg());
    const code = join(dir.path, 'state', 'capsules', 'photo-editor', id, 'code');
    const c = await capsules.loadInstalled('photo-editor');
    assert.equal(c.id, id);

    const main = join(code, 'main.js');
    const original = readFileSync(main);
    const changed = Buffer.from(original);
    changed[0] = (changed[0] ?? 0) ^ 1;
    chmodSync(main, 0o644); // an attacker with root on the disk
    writeFileSync(main, changed);
    await assert.rejects(capsules.loadInstalled('photo-editor'), (e) => hasCode(e, 'E_CAPSULE_HASH'));
    writeFileSync(main, original);
    await capsules.loadInstalled('photo-editor');

    const extra = join(code, 'lib', 'extra.js');
    chmodSync(join(code, 'lib'), 0o755);
    writeFileSync(extra, 'globalThis.evil = 1;\n');
    await assert.rejects(capsules.loadInstalled('photo-editor'), (e) => hasCode(e, 'E_CAPSULE_HASH'));
    rmSync(extra);
    await capsules.loadInstalled('photo-editor');

    appendFileSync(join(dir.path, 'state', 'capsules', 'photo-editor', id, 'manifest.json'), ' ');
    const boot = await capsules.loadAll();
    assert.deepEqual(
      boot.refused.map((r) => r.code),
      ['E_CAPSULE_HASH'],
    );
    assert.deepEqual(boot.capsules, []);
    const refusals = (await auditEvents(store)).filter((e) => e.type === 'capsule.refused');
    assert.equal(refusals.length, 3);
    assert.ok(
      refusals.every((e) => (e.details as { stage: string }).stage === 'boot' && e.resource === 'capsule:photo-editor'),
    );
  });

  it('refuses at boot a capsule whose publisher key was removed from the trust store', async () => {
    await capsules.install(await pkg());
    removeTrustedKey(trustDir, keyIdOf(await getPublicKeyAsync(seed(PUBLISHER_SEED))));
    await assert.rejects(capsules.loadInstalled('photo-editor'), (e) => hasCode(e, 'E_CAPSULE_UNTRUSTED'));
    assert.deepEqual(await refusedCodes(), ['E_CAPSULE_UNTRUSTED']);
  });

  it('gives a new name an empty data dir even if an interrupted remove left files behind', async () => {
    const stale = join(dir.path, 'state', 'capsules', 'photo-editor', 'data');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'secret.txt'), 'of the previous owner');
    const c = await capsules.install(await pkg());
    assert.deepEqual(readdirSync((await capsules.loadInstalled(c.name)).dataDir), []);
  });

  it('works without an audit sink (offline CLI), committing the index synchronously', async () => {
    const plain = new CapsuleManager({ stateDir: join(dir.path, 'state'), trustDir, store });
    await plain.install(await pkg());
    assert.equal((await plain.list()).length, 1);
    await assert.rejects(plain.install(await pkg()), (e) => hasCode(e, 'E_CAPSULE_EXISTS'));
  });
});
