/**
 * Token signature checks per second: `@noble/ed25519` (what the runtime uses) against
 * node:crypto's native Ed25519 in the same run, and the broker's cached check of a token it has
 * already verified (runtime/spec/token.md §6). Prints one JSON array of benchmark rows.
 */
import { createPublicKey, verify as nativeVerify } from 'node:crypto';
import type { TokenClaims } from '@elastos/protocol/tokens/token';
import { encodeEnvelope, encodePayload, signingMessage } from '@elastos/protocol/tokens/token-codec';
import { verifyEd25519 } from '@elastos/runtime/tokens/ed25519';
import { newKey } from '@elastos/runtime/tokens/fixtures/new-key';
import { KeyRing } from '@elastos/runtime/tokens/key-ring';
import type { TokenState } from '@elastos/runtime/tokens/token-state';
import { TokenVerifier } from '@elastos/runtime/tokens/token-verifier';

function perSecond(ms: number, fn: () => void): number {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
  }
  return n / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const key = await newKey();
  const now = Date.now();
  const claims: TokenClaims = {
    version: 1,
    id: '0f'.repeat(16),
    issuer: key.keyId,
    holder: 'photo-editor',
    audience: 'storage',
    resource: 'storage://photos/',
    action: 'read',
    notBefore: now,
    expiry: now + 3600_000,
    maxUses: 0,
    epoch: 0,
  };
  const payload = encodePayload(claims);
  const message = signingMessage(payload);
  const signature = await key.sign(message);
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.publicKey).toString('base64url') };
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  const ok = (v: boolean) => {
    if (!v) throw new Error('a good signature did not verify');
  };
  perSecond(300, () => ok(verifyEd25519(signature, message, key.publicKey))); // warm-up
  const native = perSecond(1500, () => ok(nativeVerify(null, message, publicKey, signature)));
  const noble = perSecond(3000, () => ok(verifyEd25519(signature, message, key.publicKey)));

  const encoded = encodeEnvelope(payload, signature);
  // The runtime refuses ids it never issued (spec §6 check 12): the stub state knows this one.
  const issued = (id: string) => (id === claims.id ? { claims, encoded } : undefined);
  const state = { epoch: 0, uses: () => 0, isRevoked: () => false, issued };
  const verifier = new TokenVerifier(new KeyRing(key), state as unknown as TokenState);
  const ctx = { holder: 'photo-editor', audience: 'storage', resource: 'storage://photos/a.jpg', action: 'read' };
  const cached = perSecond(1500, () => verifier.check(encoded, ctx));
  const rows = [
    { name: 'token.verify', value: noble, unit: 'verifies/s', baseline: native, ratio: noble / native },
    {
      name: 'token.check.cached',
      value: cached,
      unit: 'checks/s',
      baseline: noble,
      ratio: cached / noble,
      goal: 'cached 12-check pass far above one noble verify',
    },
  ];
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

await main();
