/**
 * A provider's second look at a token (runtime/spec/token.md §1, §4, §6): the broker has already
 * run all twelve checks; this re-verifies the signature with the runtime's public key and the
 * static claims against the call, with at most 2 s of clock skew (§7). Use counts, epoch and
 * revocation live in the runtime: only the broker can check them.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { CapsuleError } from './errors.js';

export interface TokenClaims {
  id: string;
  issuer: string;
  holder: string;
  audience: string;
  resource: string;
  action: string;
  notBefore: number;
  expiry: number;
  maxUses: number;
  epoch: number;
  parent?: string;
  caveats?: Record<string, string>;
}

export interface TokenExpectation {
  holder: string;
  audience: string;
  /** Canonical resource of the call (the broker normalised it). */
  resource: string;
  action: string;
  now?: number;
  skewMs?: number;
}

const CONTEXT = Buffer.from('elastos/token/v1\n', 'ascii');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const STRICT = { strict: true, rejectDuplicateMapKeys: true, allowIndefinite: false, allowUndefined: false };

/** `keyId` of a runtime or publisher key: hex of the first 8 bytes of SHA-256(publicKey). */
export function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

function malformed(why: string): CapsuleError {
  return new CapsuleError('E_TOKEN_MALFORMED', `malformed token: ${why}`);
}

function canonical(bytes: Uint8Array, what: string): unknown {
  let value: unknown;
  try {
    value = decode(bytes, STRICT);
  } catch {
    throw malformed(`${what} is not CBOR`);
  }
  if (!Buffer.from(encode(value, rfc8949EncodeOptions)).equals(bytes)) throw malformed(`${what} is not canonical`);
  return value;
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw malformed(`${what} is not text`);
  return v;
};
const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(`${what} is not a uint`);
  return v;
};

function claimsOf(wire: Record<string, unknown>): TokenClaims {
  if (wire.v !== 1) throw new CapsuleError('E_TOKEN_VERSION', `token version ${String(wire.v)}`);
  const claims: TokenClaims = {
    id: str(wire.id, 'id'),
    issuer: str(wire.iss, 'iss'),
    holder: str(wire.hol, 'hol'),
    audience: str(wire.aud, 'aud'),
    resource: str(wire.res, 'res'),
    action: str(wire.act, 'act'),
    notBefore: num(wire.nbf, 'nbf'),
    expiry: num(wire.exp, 'exp'),
    maxUses: num(wire.max, 'max'),
    epoch: num(wire.ep, 'ep'),
  };
  if (wire.par !== undefined) claims.parent = str(wire.par, 'par');
  if (wire.cav !== undefined) claims.caveats = wire.cav as Record<string, string>;
  return claims;
}

/** Decodes a token's text (no signature check): envelope, canonical CBOR, claims. */
export function decodeToken(text: unknown): { claims: TokenClaims; payload: Uint8Array; signature: Uint8Array } {
  if (typeof text !== 'string' || text.length > 2731) throw malformed('not a token text');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw malformed('not canonical base64url');
  const envelope = canonical(bytes, 'envelope');
  if (!Array.isArray(envelope) || envelope.length !== 2) throw malformed('envelope is not [payload, signature]');
  const [payload, signature] = envelope as unknown[];
  if (!(payload instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 64) {
    throw malformed('envelope needs a byte payload and a 64-byte signature');
  }
  const wire = canonical(payload, 'payload');
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw malformed('payload is not a map');
  return { claims: claimsOf(wire as Record<string, unknown>), payload, signature };
}

/** Whether a scope covers a canonical resource (token.md §5.3). */
export function inScope(scope: string, resource: string): boolean {
  return scope.endsWith('/') ? resource.startsWith(scope) : resource === scope;
}

/** Re-verifies a token for a call; throws the first failing check's code, returns the claims. */
export function verifyToken(text: string, runtimeKeyHex: string, want: TokenExpectation): TokenClaims {
  const { claims, payload, signature } = decodeToken(text);
  const pub = Buffer.from(runtimeKeyHex, 'hex');
  if (pub.length !== 32) throw new CapsuleError('E_TOKEN_ISSUER', 'no runtime public key to verify with');
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' });
  if (!verify(null, Buffer.concat([CONTEXT, payload]), key, signature)) {
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
