import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  authorizeHash,
  authorizePolicyDigest,
  pcrsPolicyDigest,
  pcrsSelection,
  signerPublic,
} from '@elastos/node-tpm2';
import fc from 'fast-check';
import { ElastosError } from '../errors/index.js';
import { matchPolicy, POLICY_REF, parseSignedPolicy, signPcrPolicy, verifySignedPolicy } from './signed-policy.js';

interface Entry {
  label: string;
  pcrs: Record<string, string>;
  selection: string;
  policy: string;
  aHash: string;
  signature: string;
}
interface Vectors {
  policyRef: string;
  signer: { privateKey: string; publicKey: string; tpmPublic: string; name: string; fingerprint: string };
  sealPolicy: string;
  release: string;
  entries: Entry[];
  file: string;
  invalid: Array<{ name: string; file: string; code: string }>;
}
const v = JSON.parse(readFileSync(new URL('../../spec/pcr-policy-vectors.json', import.meta.url), 'utf8')) as Vectors;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const values = (e: Entry) => Object.entries(e.pcrs).map(([k, x]) => ({ pcr: Number(k), value: Buffer.from(x, 'hex') }));

describe('signed PCR policy format (runtime/spec/boot.md §4.1, spec/pcr-policy-vectors.json)', () => {
  it("gives the signer's TPM public area, name and fingerprint, and the sealed object's policy", () => {
    const s = signerPublic(v.signer.publicKey);
    assert.equal(hex(s.public), v.signer.tpmPublic);
    assert.equal(hex(s.name), v.signer.name);
    assert.equal(s.fingerprint, v.signer.fingerprint);
    assert.equal(hex(POLICY_REF), v.policyRef);
    assert.equal(hex(authorizePolicyDigest(s.name, POLICY_REF)), v.sealPolicy);
  });

  it('computes each entry: selection, PolicyPCR digest, aHash; signs it deterministically (RSASSA-PKCS1-v1_5)', () => {
    for (const e of v.entries) {
      assert.equal(hex(pcrsSelection(values(e).map((x) => x.pcr))), e.selection);
      assert.equal(hex(pcrsPolicyDigest(values(e))), e.policy);
      assert.equal(
        hex(pcrsPolicyDigest([...values(e)].reverse())),
        e.policy,
        'ascending PCR order, whatever the input order',
      );
      assert.equal(hex(authorizeHash(Buffer.from(e.policy, 'hex'), POLICY_REF)), e.aHash);
    }
    const entries = v.entries.map((e) => ({ label: e.label, pcrs: e.pcrs }));
    assert.equal(signPcrPolicy(v.release, v.signer.privateKey, entries), v.file);
  });

  it('parses the file, matches PCR values to an entry, verifies offline against the signer only', () => {
    const f = parseSignedPolicy(Buffer.from(v.file));
    assert.equal(f.release, v.release);
    assert.equal(f.signer, v.signer.fingerprint);
    assert.deepEqual(
      f.policies.map((p) => [p.label, hex(p.policy), Buffer.from(p.signature).toString('base64')]),
      v.entries.map((e) => [e.label, e.policy, e.signature]),
    );
    const [a, b] = v.entries as [Entry, Entry];
    const now = (e: Entry) => new Map(Object.entries(e.pcrs).map(([k, x]) => [Number(k), x]));
    assert.equal(matchPolicy(f, now(b))?.label, b.label);
    assert.equal(matchPolicy(f, now(a))?.label, a.label);
    assert.equal(
      matchPolicy(f, new Map([[11, a.pcrs['11'] as string]])),
      undefined,
      'every PCR of an entry must match',
    );
    assert.equal(verifySignedPolicy(f, v.signer.publicKey), true);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    assert.equal(verifySignedPolicy(f, other), false);
  });

  for (const bad of v.invalid) {
    it(`refuses ${bad.name}: ${bad.code}`, () => {
      assert.throws(
        () => parseSignedPolicy(Buffer.from(bad.file)),
        (e: unknown) => e instanceof ElastosError && e.code === bad.code && !e.message.includes('\n'),
      );
    });
  }

  it('never throws anything but E_TPM_POLICY_INVALID/SIGNATURE on arbitrary bytes or mutated files', () => {
    const ok = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof ElastosError, String(e));
        assert.ok(['E_TPM_POLICY_INVALID', 'E_TPM_POLICY_SIGNATURE'].includes(e.code), e.code);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => ok(() => parseSignedPolicy(b))));
    const text = Buffer.from(v.file);
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.integer({ min: 0, max: 255 }), (i, byte) => {
        const m = Buffer.from(text);
        m[i] = byte;
        ok(() => parseSignedPolicy(m));
      }),
    );
    ok(() => parseSignedPolicy(Buffer.alloc(70_000, 0x20)));
  });
});
