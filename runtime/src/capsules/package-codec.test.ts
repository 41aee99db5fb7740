import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { base32, decodePackage } from '@elastos/protocol/capsules/package-codec';
import { buildPackage, signPackage } from '@elastos/publisher';
import { encode } from 'cborg';
import fc from 'fast-check';
import { hasCode } from '../errors/index.js';
import { makeVectors } from './fixtures/vectors.js';
import { VECTORS_URL } from './fixtures/write-vectors.js';
import { verifyPackage } from './package-verify.js';
import { publicKeyEntry, type TrustStore } from './trust-store.js';

interface Vectors {
  keys: { publisher: { seed: string; publicKey: string; keyId: string } };
  valid: Array<{ name: string; manifest: never; files: Record<string, string>; id: string; package: string }>;
  invalid: Array<{ name: string; code: string; package: string }>;
}

const vectors = JSON.parse(readFileSync(VECTORS_URL, 'utf8')) as Vectors;
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const trust: TrustStore = { keys: new Map(), rejected: [] };
const publisher = publicKeyEntry('test publisher', vectors.keys.publisher.publicKey);
trust.keys.set(publisher.keyId, publisher);
const signed = bytes(vectors.valid[0]?.package ?? '');

const CAPSULE_CODES = ['E_CAPSULE_INVALID', 'E_CAPSULE_SIGNATURE', 'E_CAPSULE_UNTRUSTED', 'E_CAPSULE_HASH'];

describe('capsule package format (spec/capsule-package.md)', () => {
  it('the committed vectors are exactly what the builder makes (deterministic encoding and signing)', async () => {
    const fresh = JSON.parse(JSON.stringify(await makeVectors())) as unknown;
    assert.deepEqual(fresh, JSON.parse(readFileSync(VECTORS_URL, 'utf8')));
  });

  it('encodes ids in RFC 4648 base32, lower case, unpadded', () => {
    const rfc: Array<[string, string]> = [
      ['', ''],
      ['f', 'my'],
      ['fo', 'mzxq'],
      ['foo', 'mzxw6'],
      ['foobar', 'mzxw6ytboi'],
    ];
    for (const [ascii, b32] of rfc) assert.equal(base32(new TextEncoder().encode(ascii)), b32);
  });

  for (const v of vectors.valid) {
    it(`verifies the valid vector "${v.name}" and rebuilds it byte for byte`, async () => {
      const files = new Map(Object.entries(v.files).map(([p, t]) => [p, new TextEncoder().encode(t)]));
      const rebuilt = await signPackage(buildPackage(v.manifest, files), bytes(vectors.keys.publisher.seed));
      assert.equal(Buffer.from(rebuilt).toString('hex'), v.package);
      const verified = await verifyPackage(bytes(v.package), trust);
      assert.equal(verified.id, v.id);
      assert.match(verified.id, /^cap1[a-z2-7]{52}$/);
      assert.equal(verified.parsed.publisher, vectors.keys.publisher.keyId);
    });
  }

  for (const v of vectors.invalid) {
    it(`refuses "${v.name}" with ${v.code}`, async () => {
      await assert.rejects(verifyPackage(bytes(v.package), trust), (err) => hasCode(err, v.code as never));
    });
  }

  it('decoder: arbitrary bytes are refused with E_CAPSULE_INVALID, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (input) => {
        try {
          decodePackage(input);
          return false;
        } catch (err) {
          return hasCode(err, 'E_CAPSULE_INVALID');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('decoder: arbitrary CBOR values (maps, tags-free, nested) are refused with E_CAPSULE_INVALID', () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(
        fc.constantFrom('format', 'id', 'manifest', 'files', 'signature'),
        fc.oneof(fc.jsonValue(), fc.uint8Array()),
      ),
    );
    fc.assert(
      fc.property(value, (v) => {
        try {
          decodePackage(encode(v));
          return false;
        } catch (err) {
          return hasCode(err, 'E_CAPSULE_INVALID');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('any single changed byte of a signed package is refused with a capsule code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: signed.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const copy = new Uint8Array(signed);
        copy[at] = (copy[at] ?? 0) ^ xor;
        try {
          await verifyPackage(copy, trust);
          return false;
        } catch (err) {
          return CAPSULE_CODES.some((code) => hasCode(err, code as never));
        }
      }),
      { numRuns: 300 },
    );
  });
});
