import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inScope, normaliseResource } from '@elastos/protocol/tokens/resource';
import type { TokenClaims } from '@elastos/protocol/tokens/token';
import { decodeToken, encodePayload } from '@elastos/protocol/tokens/token-codec';
import { hasCode } from '../errors/index.js';
import { SeedKey } from '../keys/seed-key.js';
import { KeyRing } from './key-ring.js';
import { TokenVerifier } from './token-verifier.js';

interface Vectors {
  seedHex: string;
  keyId: string;
  publicKeyHex: string;
  valid: Array<{ name: string; claims: TokenClaims; payloadHex: string; signatureHex: string; token: string }>;
  rejected: Array<{ name: string; token: string; code: string }>;
  resources: Array<{ input: string; canonical?: string; code?: string }>;
  scope: Array<{ scope: string; resource: string; inScope: boolean }>;
}

const vectors = JSON.parse(readFileSync(new URL('../../spec/token-vectors.json', import.meta.url), 'utf8')) as Vectors;

describe('token spec vectors (runtime/spec/token-vectors.json)', () => {
  // The delegated vector's parent is looked up among the vectors.
  const state = {
    issued: (id: string) => vectors.valid.map((v) => decodeToken(v.token)).find((t) => t.claims.id === id),
  };
  let key: SeedKey;
  let verifier: TokenVerifier;
  before(async () => {
    key = await SeedKey.fromSeed(new Uint8Array(Buffer.from(vectors.seedHex, 'hex')));
    verifier = new TokenVerifier(new KeyRing(key), state as never);
  });

  it('derives the key id from the seed', () => {
    assert.equal(key.keyId, vectors.keyId);
    assert.equal(Buffer.from(key.publicKey).toString('hex'), vectors.publicKeyHex);
  });

  for (const v of vectors.valid) {
    it(`encodes, signs and decodes: ${v.name}`, async () => {
      const payload = encodePayload(v.claims);
      assert.equal(Buffer.from(payload).toString('hex'), v.payloadHex);
      const signature = await key.sign(new Uint8Array([...Buffer.from('elastos/token/v1\n'), ...payload]));
      assert.equal(Buffer.from(signature).toString('hex'), v.signatureHex);
      const token = verifier.verified(v.token);
      assert.deepEqual(token.claims, v.claims);
    });
  }

  for (const v of vectors.rejected) {
    it(`rejects ${v.name} with ${v.code}`, () => {
      assert.throws(
        () => verifier.verified(v.token),
        (e) => hasCode(e, v.code as never),
      );
    });
  }

  it('normalises resources as the vectors say', () => {
    for (const r of vectors.resources) {
      if (r.canonical !== undefined) assert.equal(normaliseResource(r.input), r.canonical, r.input);
      else
        assert.throws(
          () => normaliseResource(r.input),
          (e) => hasCode(e, r.code as never),
          r.input,
        );
    }
  });

  it('decides scope at segment boundaries', () => {
    for (const s of vectors.scope) assert.equal(inScope(s.scope, s.resource), s.inScope, `${s.scope} ${s.resource}`);
  });
});
