import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { type ElastosConfig, parseConfig } from '../config/index.js';
import { readSealedRecord, SEALED_KEY } from '../keys/sealed-key.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import { treeSet } from './measure.js';
import { MeasuredBoot } from './measured-boot.js';
import { provisionRuntimeKey } from './provision.js';
import { signPcrPolicy } from './signed-policy.js';
import { bootRuntime } from './tpm-boot.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const pem = (k: { export(o: object): string | Buffer }, type: string) => String(k.export({ format: 'pem', type }));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.equal((err as { code?: string }).code, code, (err as Error).message);
    assert.doesNotMatch((err as Error).message, /\n/);
    return err as Error;
  }
  assert.fail(`expected ${code}`);
}

function writeTree(root: string, main: string): void {
  for (const [name, text] of [
    ['package.json', '{"name":"test-runtime"}'],
    ['dist/main.js', main],
  ] as const) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}

/**
 * The runtime key sealed to the vendor's signed PCR policy (runtime/spec/boot.md §4.1), on swtpm:
 * PCR 11 stands for what systemd-stub and systemd-pcrphase measure (not resettable: a new value
 * needs a TPM restart, as a reboot into the next release), PCR 23 is the runtime's own.
 */
describe('the runtime key through a signed PCR policy (TPM2_PolicyAuthorize, swtpm)', function () {
  this.timeout(60_000);
  const dir = makeTempDir('signed-policy-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  const log = createLogger({ name: 'signed-policy-test', level: 'fatal' });
  const codeDir = join(dir.path, 'code');
  const codeSets = [treeSet('runtime.code', 'test', codeDir, ['package.json', 'dist'])];
  const vendor = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const policyFile = join(dir.path, 'pcr-policy.json');
  let config: ElastosConfig;
  let store: Store;
  let keyId = '';

  const boot = () => bootRuntime({ config, store, log, codeSets });

  /** Reboots into a release: a fresh TPM start (PCRs zero), the stub's PCR 11, the runtime's PCR 23 (measured here as the image build predicts it). */
  async function rebootInto(release: string, runtime = 'export const main = 1;\n') {
    await swtpm.stop();
    await swtpm.start();
    writeTree(codeDir, runtime);
    const tpm = await Tpm.open(swtpm.tcti);
    try {
      await tpm.pcrExtend(11, sha256(`UKI of release ${release}`));
      const pcr11 = Buffer.from(await tpm.pcrRead(11)).toString('hex');
      const pcr23 = await new MeasuredBoot(tpm, 23, join(dir.path, 'predict.json')).measureRuntime(config, codeSets);
      return { 11: pcr11, 23: pcr23 };
    } finally {
      await tpm.close();
    }
  }

  const sign = (release: string, pcrs: Record<number, string>, key = vendor.privateKey) =>
    signPcrPolicy(release, key, [{ label: `release ${release}`, pcrs }]);

  before(async () => {
    await swtpm.start();
    writeFileSync(join(dir.path, 'vendor.pem'), pem(vendor.publicKey, 'spki'));
    config = parseConfig(
      {
        profile: 'dev',
        runDir: 'run',
        stateDir: 'state',
        tpm: { tcti: swtpm.tcti, pcrSigning: { publicKey: 'vendor.pem', policy: 'pcr-policy.json' } },
      },
      dir.path,
    );
    store = await Store.open(join(config.stateDir, 'store'));
  });
  afterEach(async () => {
    await swtpm.assertNoLeaks();
  });
  after(async () => {
    await store.close();
    await swtpm.stop();
    dir.remove();
  });

  it('provisions a key sealed to PolicyAuthorize(vendor key) and unseals it in release N', async () => {
    const n = await rebootInto('N');
    writeFileSync(policyFile, sign('N', n));
    const r = await provisionRuntimeKey(config, store, 'new', codeSets);
    assert.equal(r.sealedTo, 'signed-policy');
    keyId = r.keyId;
    const record = await readSealedRecord(store);
    assert.equal(record?.version, 2);
    for (let i = 0; i < 2; i++) {
      const booted = await boot();
      assert.equal(booted.key.keyId, keyId);
      await booted.close();
    }
  });

  it("release N+1's signed policy unseals the same sealed key after a reboot into N+1, no reseal", async () => {
    const stored = await readSealedRecord(store);
    const n1 = await rebootInto('N+1', 'export const main = 2; // release N+1 changed the runtime\n');
    writeFileSync(policyFile, sign('N+1', n1));
    const booted = await boot();
    assert.equal(booted.key.keyId, keyId);
    await booted.close();
    assert.deepEqual(await readSealedRecord(store), stored);
    assert.equal((await provisionRuntimeKey(config, store, 'if-needed', codeSets)).action, 'unchanged');
  });

  it('refuses PCR values no signed policy names (a tampered runtime, or a policy of another release): E_TPM_PCR_MISMATCH', async () => {
    const n = await rebootInto('N');
    writeFileSync(policyFile, sign('N+1', { 11: sha256('UKI of another release').toString('hex'), 23: n[23] }));
    const err = await rejectsWith(boot(), 'E_TPM_PCR_MISMATCH');
    assert.match(err.message, /PCR 11 [0-9a-f]{16}…, PCR 23 [0-9a-f]{16}…: none of release N\+1's 1 signed policies/);
    // The runtime's own files altered on disk: PCR 23 is no longer the one release N signed.
    writeFileSync(policyFile, sign('N', n));
    writeTree(codeDir, 'export const main = "tampered";\n');
    await rejectsWith(boot(), 'E_TPM_PCR_MISMATCH');
  });

  it('refuses an unsigned policy, a wrong signature and another signer: E_TPM_POLICY_SIGNATURE', async () => {
    const n = await rebootInto('N');
    const good = JSON.parse(sign('N', n));
    const unsigned = structuredClone(good);
    delete unsigned.policies[0].signature;
    writeFileSync(policyFile, JSON.stringify(unsigned));
    await rejectsWith(boot(), 'E_TPM_POLICY_SIGNATURE');
    const flipped = structuredClone(good);
    const sig = Buffer.from(flipped.policies[0].signature, 'base64');
    sig[100] = (sig[100] ?? 0) ^ 1;
    flipped.policies[0].signature = sig.toString('base64');
    writeFileSync(policyFile, JSON.stringify(flipped));
    const wrong = await rejectsWith(boot(), 'E_TPM_POLICY_SIGNATURE');
    assert.match(wrong.message, /the TPM refuses the signature/);
    // Signed by another key: named as such, or (the signer field forged) refused by the TPM.
    const foreign = JSON.parse(sign('N', n, other.privateKey));
    writeFileSync(policyFile, JSON.stringify(foreign));
    await rejectsWith(boot(), 'E_TPM_POLICY_SIGNATURE');
    writeFileSync(policyFile, JSON.stringify({ ...foreign, signer: good.signer }));
    assert.match((await rejectsWith(boot(), 'E_TPM_POLICY_SIGNATURE')).message, /the TPM refuses the signature/);
    writeFileSync(policyFile, '{"format":"elastos-pcr-policy/1"');
    await rejectsWith(boot(), 'E_TPM_POLICY_INVALID');
    writeFileSync(policyFile, JSON.stringify(good));
    await (await boot()).close();
  });

  it('refuses a configured key that is not RSA-2048 (E_CONFIG_INVALID) and a corrupt signer in the record (E_TPM_SEALED_CORRUPT)', async () => {
    const n = await rebootInto('N');
    writeFileSync(policyFile, sign('N', n));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir.path, 'ec.pem'), pem(ec.publicKey, 'spki'));
    const ecConfig = {
      ...config,
      tpm: { ...config.tpm, pcrSigning: { publicKey: join(dir.path, 'ec.pem'), policy: policyFile } },
    };
    await rejectsWith(provisionRuntimeKey(ecConfig, store, 'reseal', codeSets), 'E_CONFIG_INVALID');
    const stored = await readSealedRecord(store);
    assert.equal(stored?.version, 2);
    const bytes = Buffer.from(JSON.stringify({ ...stored, signerKey: Buffer.from('not a key').toString('base64') }));
    await store.put('meta', SEALED_KEY, bytes, { sync: true });
    await rejectsWith(boot(), 'E_TPM_SEALED_CORRUPT');
    await store.put('meta', SEALED_KEY, Buffer.from(JSON.stringify(stored)), { sync: true });
    await (await boot()).close();
  });

  it('keeps the PCR 23 fallback where no signed policy is configured', async () => {
    await rebootInto('N');
    const fallback = { ...config, tpm: { ...config.tpm, pcrSigning: undefined } };
    delete fallback.tpm.pcrSigning;
    const r = await provisionRuntimeKey(fallback, store, 'reseal', codeSets);
    assert.equal(r.sealedTo, 'pcr');
    assert.equal((await readSealedRecord(store))?.version, 1);
    const booted = await bootRuntime({ config: fallback, store, log, codeSets });
    assert.equal(booted.key.keyId, r.keyId);
    await booted.close();
  });
});
