/**
 * A provider's second look at a token (runtime/spec/token.md §1, §4, §6): the broker has already
 * run all twelve checks; this re-verifies the signature with the runtime's public key and the
 * static claims against the call, with at most 2 s of clock skew (§7). Use counts, epoch and
 * revocation live in the runtime: only the broker can check them.
 */
import { createPublicKey, verify } from 'node:crypto';
import { keyIdOf } from '@elastos/protocol/keys/key-id';
import { inScope } from '@elastos/protocol/tokens/resource';
import type { TokenClaims as WireClaims } from '@elastos/protocol/tokens/token';
import { decodeToken as decodeWire, signingMessage } from '@elastos/protocol/tokens/token-codec';
import { asCapsuleError, CapsuleError } from './errors.js';

/**
 * The claims as the SDK returns them: the contract's shape (`@elastos/protocol/tokens/token`)
 * less `version`, which decoding checks and drops.
 */
export type TokenClaims = Omit<WireClaims, 'version'>;

export interface TokenExpectation {
  holder: string;
  audience: string;
  /** Canonical resource of the call (the broker normalised it). */
  resource: string;
  action: string;
  now?: number;
  skewMs?: number;
}

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export { keyIdOf };

/** Decodes a token's text (no signature check) with the contract's codec; its codes as a CapsuleError. */
export function decodeToken(text: unknown): { claims: TokenClaims; payload: Uint8Array; signature: Uint8Array } {
  try {
    const { claims, payload, signature } = decodeWire(text);
    const { version: _version, ...rest } = claims;
    return { claims: rest, payload, signature };
  } catch (err) {
    throw asCapsuleError(err);
  }
}

export { inScope };

/** Re-verifies a token for a call; throws the first failing check's code, returns the claims. */
export function verifyToken(text: string, runtimeKeyHex: string, want: TokenExpectation): TokenClaims {
  const { claims, payload, signature } = decodeToken(text);
  const pub = Buffer.from(runtimeKeyHex, 'hex');
  if (pub.length !== 32) throw new CapsuleError('E_TOKEN_ISSUER', 'no runtime public key to verify with');
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' });
  if (!verify(null, signingMessage(payload), key, signature)) {
    throw new CapsuleError('E_TOKEN_SIGNATURE', 'the token signature does not verify');
  }
  if (claims.issuer !== keyIdOf(pub)) throw new CapsuleError('E_TOKEN_ISSUER', `issued by ${claims.issuer}`);
  if (claims.holder !== want.holder) throw new CapsuleError('E_TOKEN_HOLDER', `token of ${claims.holder}`);
  if (claims.audience !== want.audience) throw new CapsuleError('E_TOKEN_AUDIENCE', `token for ${claims.audience}`);
  if (!inScope(claims.resource, want.resource))
    throw new CapsuleError('E_TOKEN_SCOPE', `${want.resource} not in scope`);
  if (claims.action !== want.action) throw new CapsuleError('E_TOKEN_ACTION', `token allows ${claims.action}`);
  const now = want.now ?? Date.now();
  const skew = want.skewMs ?? 2000;
  if (now + skew < claims.notBefore) throw new CapsuleError('E_TOKEN_NOT_YET_VALID', 'the token is not valid yet');
  if (now - skew >= claims.expiry) throw new CapsuleError('E_TOKEN_EXPIRED', 'the token has expired');
  return claims;
}
