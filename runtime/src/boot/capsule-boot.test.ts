import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { capsuleId } from '@elastos/protocol/capsules/package-codec';
import { buildPackage, signPackage } from '@elastos/publisher';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { verifyAttestation } from '@elastos/verifier/attest/attestation';
import { getPublicKeyAsync } from '@noble/ed25519';
import { writeAttestation } from '../attest/attestation.js';
import { AuditLog, type AuditRecord, decodeRecord } from '../audit/index.js';
import { CapsuleManager } from '../capsules/capsule-manager.js';
import { EXAMPLE_FILES, exampleManifest, fileMap, PUBLISHER_SEED } from '../capsules/fixtures/vectors.js';
import { addTrustedKey, publicKeyEntry } from '../capsules/trust-store.js';
import { parseConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import { capsuleDigestHex } from './capsule-digest.js';
import { provisionRuntimeKey } from './provision.js';
import { bootRuntime } from './tpm-boot.js';

const seed = Buffer.from(PUBLISHER_SEED, 'hex');
const pkg = async (name: string) =>
  signPackage(buildPackage({ ...exampleManifest('0000000000000000'), name }, fileMap(EXAMPLE_FILES)), seed);

describe('capsules at boot: verified ones measured into the PCR, a tampered one refused and audited', function () {
  this.timeout(30_000);
  const dir = makeTempDir('capsule-boot-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));

  before(() => swtpm.start());
  after(async () => {
    await swtpm.assertNoLeaks();
    await swtpm.stop();
    dir.remove();
  });

  it('measures what verifies, refuses what was tampered with, and an attestation shows it', async () => {
    const config = parseConfig(
      { profile: 'dev', runDir: 'run', stateDir: 'state', tpm: { tcti: swtpm.tcti } },
      dir.path,
    );
    addTrustedKey(
      config.trustDir,
      publicKeyEntry('publisher', Buffer.from(await getPublicKeyAsync(seed)).toString('hex')),
    );
    const store = await Store.open(join(config.stateDir, 'store'));
    const audit = await AuditLog.open(store);
    const trail: AuditRecord[] = [];
    audit.onCommit((rs) => {
      for (const r of rs) trail.push(decodeRecord(r.bytes));
    });
    const capsules = new CapsuleManager({ stateDir: config.stateDir, trustDir: config.trustDir, store, audit });
    await capsules.install(await pkg('photo-editor'));
    const victim = await capsules.install(await pkg('notes'));
    const notes = await capsules.loadInstalled('notes');
    appendFileSync(join(notes.codeDir, notes.entry), '\n// tampered on disk\n');
    await provisionRuntimeKey(config, store, 'new');
    const booted = await bootRuntime({ config, store, log: createLogger({ name: 't', level: 'fatal' }), audit });
    try {
      // What the supervisor does before it spawns: re-verify, measure the good, skip the refused.
      const { capsules: good, refused } = await capsules.loadAll();
      for (const c of good) await booted.measureCapsule(c.name, c.id);
      assert.deepEqual(
        refused.map((r) => [r.name, r.code]),
        [['notes', 'E_CAPSULE_HASH']],
      );
      const audited = trail.filter((r) => r.type === 'capsule.refused');
      assert.equal(audited.length, 1);
      assert.equal(audited[0]?.resource, 'capsule:notes');
      assert.equal(audited[0]?.code, 'E_CAPSULE_HASH');
      assert.ok(trail.some((r) => r.type === 'capsule.measured' && r.resource === 'photo-editor'));

      const event = booted.measured?.log.events.at(-1);
      assert.equal(event?.type, 'capsule');
      assert.equal(event?.name, 'photo-editor');
      assert.equal(capsuleId(Buffer.from(event?.digest ?? '', 'hex')), good[0]?.id);
      assert.notEqual(victim.id, good[0]?.id);

      const out = join(dir.path, 'att');
      writeAttestation(out, await booted.attest(Buffer.from('0102', 'hex')));
      const v = verifyAttestation(out, { nonce: Buffer.from('0102', 'hex') });
      assert.deepEqual(
        v.events.filter((e) => e.type === 'capsule').map((e) => e.name),
        ['photo-editor'],
      );
      assert.throws(() => capsuleDigestHex('cap1-not-an-id'), RangeError);
    } finally {
      await booted.close();
      await audit.close();
      await store.close();
    }
  });
});
