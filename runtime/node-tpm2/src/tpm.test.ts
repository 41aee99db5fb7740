import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { checkTcti, pcrPolicyDigest, rcBase, TPM_RC, Tpm, type TpmError } from './index.js';

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const run = promisify(execFile);

async function rejectsWith(p: Promise<unknown>, code: string): Promise<TpmError> {
  try {
    await p;
  } catch (err) {
    assert.equal((err as TpmError).code, code, (err as Error).message);
    assert.doesNotMatch((err as Error).message, /\n/);
    return err as TpmError;
  }
  assert.fail(`expected ${code}`);
}

describe('node-tpm2 against swtpm', function () {
  this.timeout(20_000);
  const dir = makeTempDir('node-tpm2-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  let tpm: Tpm;

  before(async () => {
    await swtpm.start();
  });
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

  it('reads random bytes and the manufacturer', async () => {
    const a = await tpm.getRandom(48);
    assert.equal(a.length, 48);
    assert.notEqual(hex(a), hex(await tpm.getRandom(48)));
    const p = await tpm.properties();
    assert.equal(p.manufacturer, 'IBM');
    assert.equal(p.inLockout, false);
  });

  it('extends PCR 23 as SHA-256(old || digest) and resets it to zero', async () => {
    await tpm.pcrReset(23);
    assert.equal(hex(await tpm.pcrRead(23)), '00'.repeat(32));
    const d = sha256(Buffer.from('measured'));
    await tpm.pcrExtend(23, d);
    assert.equal(hex(await tpm.pcrRead(23)), hex(sha256(new Uint8Array(32), d)));
  });

  it('serves calls in the order issued, off the event loop', async () => {
    await tpm.pcrReset(23);
    let expected: Uint8Array = new Uint8Array(32);
    const pending: Array<Promise<unknown>> = [];
    const seen: string[] = [];
    const want: string[] = [];
    for (let i = 0; i < 24; i++) {
      const d = sha256(Buffer.from([i]));
      expected = sha256(expected, d);
      want.push(hex(expected));
      pending.push(tpm.pcrExtend(23, d));
      pending.push(tpm.pcrRead(23).then((v) => seen.push(hex(v))));
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await Promise.all(pending);
    clearInterval(timer);
    assert.deepEqual(seen, want);
    assert.ok(ticks > 0, 'the event loop ran while the TPM worked');
  });

  it('computes the PolicyPCR digest that tpm2_createpolicy computes', async () => {
    await tpm.pcrReset(23);
    await tpm.pcrExtend(23, sha256(Buffer.from('x')));
    const value = await tpm.pcrRead(23);
    const file = join(dir.path, 'policy.dat');
    await run('tpm2_createpolicy', ['-T', swtpm.tcti, '--policy-pcr', '-l', 'sha256:23', '-L', file]);
    // tpm2-tools leaves its trial session loaded when no resource manager is there to flush it.
    await swtpm.tpm2('tpm2_flushcontext', ['--loaded-session']);
    assert.equal(hex(pcrPolicyDigest(23, value)), readFileSync(file).toString('hex'));
  });

  it('seals to a PCR policy, unseals while the PCR holds, and fails the policy after an extend', async () => {
    await tpm.pcrReset(23);
    await tpm.pcrExtend(23, sha256(Buffer.from('runtime')));
    const secret = await tpm.getRandom(32);
    const blob = await tpm.seal(secret, pcrPolicyDigest(23, await tpm.pcrRead(23)));
    assert.equal(hex(await tpm.unseal(blob, 23)), hex(secret));
    await tpm.pcrExtend(23, sha256(Buffer.from('tampered')));
    const err = await rejectsWith(tpm.unseal(blob, 23), 'E_TPM_COMMAND');
    assert.equal(rcBase(err.rc), TPM_RC.POLICY_FAIL);
    assert.match(err.message, /^Esys_Unseal: .*policy check failed \(rc 0x99d\)$/);
  });

  it('rejects corrupt sealed blobs with a code, without crashing', async () => {
    await tpm.pcrReset(23);
    const blob = await tpm.seal(new Uint8Array(32).fill(1), pcrPolicyDigest(23, await tpm.pcrRead(23)));
    const flipped = Uint8Array.from(blob.private);
    flipped[40] = (flipped[40] ?? 0) ^ 0xff;
    await rejectsWith(tpm.unseal({ private: flipped, public: blob.public }, 23), 'E_TPM_COMMAND');
    await rejectsWith(tpm.unseal({ private: blob.private.subarray(0, 20), public: blob.public }, 23), 'E_TPM_COMMAND');
    await rejectsWith(tpm.unseal({ private: blob.private, public: new Uint8Array([0, 1, 2]) }, 23), 'E_TPM_COMMAND');
  });

  it('keeps a monotonic NV counter and an NV extend index', async () => {
    const counter = 0x01500010;
    const ext = 0x01500011;
    await tpm.nvDefine(counter, 'counter');
    await tpm.nvIncrement(counter);
    const first = await tpm.nvReadCounter(counter);
    await tpm.nvIncrement(counter);
    assert.equal(await tpm.nvReadCounter(counter), first + 1n);
    await tpm.nvDefine(ext, 'extend');
    const data = Buffer.from('checkpoint');
    await tpm.nvExtend(ext, data);
    assert.equal(hex(await tpm.nvRead(ext)), hex(sha256(new Uint8Array(32), data)));
    await rejectsWith(tpm.nvDefine(counter, 'counter'), 'E_TPM_COMMAND');
    await tpm.nvUndefine(counter);
    await tpm.nvUndefine(ext);
    await rejectsWith(tpm.nvRead(counter), 'E_TPM_COMMAND');
  });

  it('quotes a PCR with the attestation key, re-created identically', async () => {
    const q1 = await tpm.quote(23, Buffer.from('nonce-1'));
    const q2 = await tpm.quote(23, Buffer.from('nonce-2'));
    assert.equal(hex(q1.akPublic), hex(q2.akPublic));
    assert.ok(Buffer.from(q1.attest).includes(Buffer.from('nonce-1')));
    assert.equal(Buffer.from(q1.attest).readUInt32BE(0), 0xff544347); // TPM_GENERATED_VALUE
  });

  it('quotes several PCRs in one quote: the selection names them, the digest covers their values in order', async () => {
    await tpm.pcrExtend(11, sha256(Buffer.from('stub')));
    const q = Buffer.from((await tpm.quote([23, 11], Buffer.from('nonce-3'))).attest);
    const values = Buffer.concat([await tpm.pcrRead(11), await tpm.pcrRead(23)]);
    // ... TPML_PCR_SELECTION {count 1, sha256, 3 bytes: PCRs 11 and 23} || TPM2B_DIGEST (Part 2 §10.12.1)
    const tail = Buffer.concat([Buffer.from('00000001000b03000880', 'hex'), Buffer.from([0, 32]), sha256(values)]);
    assert.equal(hex(q.subarray(q.length - tail.length)), hex(tail));
    await assert.rejects(tpm.quote([], Buffer.from('n')), RangeError);
    await assert.rejects(tpm.quote([11, 11], Buffer.from('n')), RangeError);
  });

  it('answers a closed connection with E_TPM_UNAVAILABLE', async () => {
    const other = await Tpm.open(swtpm.tcti);
    await other.close();
    await rejectsWith(other.getRandom(4), 'E_TPM_UNAVAILABLE');
  });

  it('refuses an unknown TCTI (E_TPM_TCTI) and a TPM that is not running (E_TPM_UNAVAILABLE)', async () => {
    await rejectsWith(Tpm.open('nosuchtcti:foo'), 'E_TPM_TCTI');
    const err = await rejectsWith(Tpm.open(`swtpm:path=${join(dir.path, 'absent.sock')}`), 'E_TPM_UNAVAILABLE');
    assert.ok(err.rc > 0);
  });

  it('answers a TPM that went away mid-connection with E_TPM_UNAVAILABLE, without crashing', async () => {
    await swtpm.stop();
    await rejectsWith(tpm.getRandom(8), 'E_TPM_UNAVAILABLE');
    await rejectsWith(tpm.pcrRead(23), 'E_TPM_UNAVAILABLE');
    await swtpm.start();
    await tpm.close();
    tpm = await Tpm.open(swtpm.tcti);
    assert.equal((await tpm.getRandom(8)).length, 8);
  });

  it('reports dictionary-attack lockout as E_TPM_LOCKOUT; NODA objects keep working', async () => {
    const guarded = 0x01500020;
    await tpm.nvDefine(guarded, 'counter', { noDA: false });
    await tpm.nvIncrement(guarded);
    await swtpm.tpm2('tpm2_dictionarylockout', ['-s', '-n', '1', '-t', '600', '-l', '1']);
    await assert.rejects(swtpm.tpm2('tpm2_nvread', ['-P', 'wrong', `0x${guarded.toString(16)}`]));
    assert.equal((await tpm.properties()).inLockout, true);
    await rejectsWith(tpm.nvRead(guarded), 'E_TPM_LOCKOUT');
    // The runtime's own objects are NODA: sealing and unsealing still work in lockout.
    await tpm.pcrReset(23);
    const blob = await tpm.seal(new Uint8Array(32).fill(3), pcrPolicyDigest(23, await tpm.pcrRead(23)));
    assert.equal((await tpm.unseal(blob, 23))[0], 3);
    await swtpm.tpm2('tpm2_dictionarylockout', ['-c']);
    await swtpm.tpm2('tpm2_dictionarylockout', ['-s', '-n', '1000', '-t', '1', '-l', '1']);
    await tpm.nvUndefine(guarded);
  });
});

describe('node-tpm2 TCTI check', () => {
  it('refuses a cmd: TCTI and unknown TCTI libraries before tpm2-tss loads them (E_TPM_TCTI)', async () => {
    for (const tcti of ['cmd:/usr/bin/id', 'libtss2-tcti-evil.so', 'spi-helper:x']) {
      await assert.rejects(Tpm.open(tcti), { code: 'E_TPM_TCTI' }, tcti);
    }
    assert.doesNotThrow(() => checkTcti('device:/dev/tpmrm0'));
    assert.doesNotThrow(() => checkTcti('swtpm:path=/run/swtpm.sock'));
  });
});
