import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { encode, rfc8949EncodeOptions } from 'cborg';
import { keyIdOf, verifyToken } from './token.js';

/** A token made by the spec's recipe (runtime/spec/token.md §2-§4) with a key of the test's own. */
function makeKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return { privateKey, hex: raw.toString('hex'), keyId: keyIdOf(raw) };
}

function mint(key: ReturnType<typeof makeKey>, over: Record<string, unknown> = {}): string {
  const now = Date.now();
  const claims = {
    v: 1,
    id: '0123456789abcdef0123456789abcdef',
    iss: key.keyId,
    hol: 'photo-editor',
    aud: 'storage',
    res: 'storage://photos/vacation.jpg',
    act: 'read',
    nbf: now - 1000,
    exp: now + 3_600_000,
    max: 0,
    ep: 0,
    ...over,
  };
  const payload = encode(claims, rfc8949EncodeOptions);
  const sig = sign(null, Buffer.concat([Buffer.from('elastos/token/v1\n'), payload]), key.privateKey);
  return Buffer.from(encode([payload, new Uint8Array(sig)], rfc8949EncodeOptions)).toString('base64url');
}

const want = { holder: 'photo-editor', audience: 'storage', resource: 'storage://photos/vacation.jpg', action: 'read' };
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'passed';
};

describe('SDK: a provider re-verifies a token with the runtime key', () => {
  const key = makeKey();

  it('accepts a good token and returns its claims', () => {
    const claims = verifyToken(mint(key), key.hex, want);
    assert.equal(claims.holder, 'photo-editor');
    assert.equal(claims.resource, 'storage://photos/vacation.jpg');
  });

  it('refuses each mismatch with its code', () => {
    const other = makeKey();
    assert.equal(
      codeOf(() => verifyToken(mint(other), key.hex, want)),
      'E_TOKEN_SIGNATURE',
    );
    assert.equal(
      codeOf(() => verifyToken(mint(key, { iss: other.keyId }), key.hex, want)),
      'E_TOKEN_ISSUER',
    );
    assert.equal(
      codeOf(() => verifyToken(mint(key), key.hex, { ...want, holder: 'agent' })),
      'E_TOKEN_HOLDER',
    );
    assert.equal(
      codeOf(() => verifyToken(mint(key), key.hex, { ...want, audience: 'sysinfo' })),
      'E_TOKEN_AUDIENCE',
    );
    const elsewhere = { ...want, resource: 'storage://photos/passport.jpg' };
    assert.equal(
      codeOf(() => verifyToken(mint(key), key.hex, elsewhere)),
      'E_TOKEN_SCOPE',
    );
    assert.equal(
      codeOf(() => verifyToken(mint(key), key.hex, { ...want, action: 'write' })),
      'E_TOKEN_ACTION',
    );
    const late = mint(key, { nbf: 0, exp: Date.now() - 5000 });
    assert.equal(
      codeOf(() => verifyToken(late, key.hex, want)),
      'E_TOKEN_EXPIRED',
    );
    const early = mint(key, { nbf: Date.now() + 60_000 });
    assert.equal(
      codeOf(() => verifyToken(early, key.hex, want)),
      'E_TOKEN_NOT_YET_VALID',
    );
    assert.equal(
      codeOf(() => verifyToken(mint(key, { v: 2 }), key.hex, want)),
      'E_TOKEN_VERSION',
    );
  });

  it('a prefix scope covers what is under it, and only at a segment boundary', () => {
    const t = mint(key, { res: 'storage://photos/' });
    assert.equal(
      codeOf(() => verifyToken(t, key.hex, want)),
      'passed',
    );
    assert.equal(
      codeOf(() => verifyToken(t, key.hex, { ...want, resource: 'storage://photos-private/x' })),
      'E_TOKEN_SCOPE',
    );
  });

  it('never throws anything but a coded refusal on mangled text', () => {
    const good = mint(key);
    for (let i = 0; i < good.length; i += 7) {
      const bad = `${good.slice(0, i)}${good[i] === 'A' ? 'B' : 'A'}${good.slice(i + 1)}`;
      assert.match(String(codeOf(() => verifyToken(bad, key.hex, want))), /^E_TOKEN_/);
    }
    for (const bad of ['', '!!', 'AAAA', 'x'.repeat(5000)])
      assert.match(String(codeOf(() => verifyToken(bad, key.hex, want))), /^E_TOKEN_/);
  });
});
