import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import {
  authorizePolicyDigest,
  pcrsPolicyDigest,
  rcBase,
  rsassaSignature,
  type SignedPcrPolicy,
  signerPublic,
  TPM_RC,
  Tpm,
  type TpmError,
} from './index.js';

const sha256 = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const REF = new Uint8Array(Buffer.from('elastos runtime key'));
const TPM_RC_VALUE = 0x084;

/** What a release ships for one set of PCR values: the policy and the vendor's signature of it. */
function signed(
  key: { privateKey: KeyObject; publicKey: KeyObject },
  values: Array<{ pcr: number; value: Uint8Array }>,
  ref = REF,
): SignedPcrPolicy {
  const approved = pcrsPolicyDigest(values);
  const sig = sign('sha256', Buffer.concat([approved, ref]), key.privateKey);
  return {
    pcrs: values.map((v) => v.pcr),
    approved,
    policyRef: ref,
    signerPublic: signerPublic(key.publicKey).public,
    signature: rsassaSignature(sig),
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<TpmError> {
  try {
    await p;
  } catch (err) {
    assert.equal((err as TpmError).code, code, (err as Error).message);
    return err as TpmError;
  }
  assert.fail(`expected ${code}`);
}

describe('node-tpm2 signed PCR policy (TPM2_PolicyAuthorize) against swtpm', function () {
  this.timeout(30_000);
  const dir = makeTempDir('node-tpm2-auth-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  const vendor = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let tpm: Tpm;

  before(() => swtpm.start());
  beforeEach(async () => {
    tpm = await Tpm.open(swtpm.tcti);
  });
  afterEach(async () => {
    await tpm.close();
    await swtpm.assertNoLeaks();
  });
  after(async () => {
    await swtpm.stop();
    dir.remove();
  });

  /** PCR 16 and 23 (resettable) set to the measurements of one "release". */
  async function measure(release: string): Promise<Array<{ pcr: number; value: Uint8Array }>> {
    const out = [];
    for (const pcr of [16, 23]) {
      await tpm.pcrReset(pcr);
      await tpm.pcrExtend(pcr, sha256(`${release} ${pcr}`));
      out.push({ pcr, value: await tpm.pcrRead(pcr) });
    }
    return out;
  }

  it('names the external key as the TPM does (nameAlg || H(TPMT_PUBLIC))', async () => {
    const s = signerPublic(vendor.publicKey);
    assert.equal(hex(await tpm.externalName(s.public)), hex(s.name));
    assert.equal(s.name.length, 34);
  });

  it('computes the PolicyAuthorize digest that tpm2_policyauthorize computes in a trial session', async () => {
    const s = signerPublic(vendor.publicKey);
    const name = join(dir.path, 'signer.name');
    const out = join(dir.path, 'authorize.policy');
    const session = join(dir.path, 'trial.ctx');
    writeFileSync(name, s.name);
    await swtpm.tpm2('tpm2_startauthsession', ['-S', session]);
    await swtpm.tpm2('tpm2_policyauthorize', ['-S', session, '-L', out, '-n', name, '-q', hex(REF)]);
    await swtpm.tpm2('tpm2_flushcontext', [session]);
    assert.equal(hex(authorizePolicyDigest(s.name, REF)), readFileSync(out).toString('hex'));
  });

  it("unseals one sealed object with each release's signed policy, no reseal", async () => {
    const policy = authorizePolicyDigest(signerPublic(vendor.publicKey).name, REF);
    const secret = await tpm.getRandom(32);
    const blob = await tpm.seal(secret, policy);
    const n = signed(vendor, await measure('release N'));
    assert.equal(hex(await tpm.unsealAuthorized(blob, n)), hex(secret));
    const n1 = signed(vendor, await measure('release N+1'));
    assert.equal(hex(await tpm.unsealAuthorized(blob, n1)), hex(secret));
    // Release N's signed policy no longer matches the PCRs: PolicyAuthorize refuses it.
    const err = await rejectsWith(tpm.unsealAuthorized(blob, n), 'E_TPM_COMMAND');
    assert.equal(err.op, 'Esys_PolicyAuthorize');
    assert.equal(rcBase(err.rc), TPM_RC_VALUE);
  });

  it('refuses a wrong signature, another signer, another policyRef and corrupt bytes', async () => {
    const blob = await tpm.seal(
      new Uint8Array(32).fill(7),
      authorizePolicyDigest(signerPublic(vendor.publicKey).name, REF),
    );
    const good = signed(vendor, await measure('release N'));
    const sig = Uint8Array.from(good.signature);
    sig[20] = (sig[20] ?? 0) ^ 1;
    const bad = await rejectsWith(tpm.unsealAuthorized(blob, { ...good, signature: sig }), 'E_TPM_COMMAND');
    assert.equal(bad.op, 'Esys_VerifySignature');
    // Signed by a key the object was not sealed for: the ticket is good, the object's policy is not.
    const foreign = await rejectsWith(
      tpm.unsealAuthorized(blob, signed(other, await measure('release N'))),
      'E_TPM_COMMAND',
    );
    assert.equal(foreign.op, 'Esys_Unseal');
    assert.equal(rcBase(foreign.rc), TPM_RC.POLICY_FAIL);
    const ref = new Uint8Array(Buffer.from('another purpose'));
    const otherRef = await rejectsWith(
      tpm.unsealAuthorized(blob, signed(vendor, await measure('release N'), ref)),
      'E_TPM_COMMAND',
    );
    assert.equal(otherRef.op, 'Esys_Unseal');
    const cut = await rejectsWith(
      tpm.unsealAuthorized(blob, { ...good, signature: good.signature.subarray(0, 40) }),
      'E_TPM_COMMAND',
    );
    assert.equal(cut.op, 'unmarshal signature');
    const junk = await rejectsWith(
      tpm.unsealAuthorized(blob, { ...good, signerPublic: new Uint8Array([0, 3, 1, 2, 3]) }),
      'E_TPM_COMMAND',
    );
    assert.equal(junk.op, 'unmarshal signer public');
    assert.equal((await tpm.unsealAuthorized(blob, good))[0], 7);
  });

  it('never unseals an object sealed to PolicyAuthorize through a plain PolicyPCR session', async () => {
    const blob = await tpm.seal(
      new Uint8Array(32).fill(9),
      authorizePolicyDigest(signerPublic(vendor.publicKey).name, REF),
    );
    await measure('release N');
    for (const pcr of [16, 23]) {
      const err = await rejectsWith(tpm.unseal(blob, pcr), 'E_TPM_COMMAND');
      assert.equal(rcBase(err.rc), TPM_RC.POLICY_FAIL);
    }
  });
});
