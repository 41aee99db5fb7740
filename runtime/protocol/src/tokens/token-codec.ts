/**
 * The token's wire form (runtime/spec/token.md §3, §4): an envelope `[payload, signature]` in
 * deterministic CBOR (RFC 8949 §4.2.1), carried as base64url. Decoding attacker bytes never
 * throws anything but E_TOKEN_TOO_LARGE, E_TOKEN_MALFORMED or E_TOKEN_VERSION.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { STRICT_DECODE } from '../cbor/strict-decode.js';
import { ElastosError } from '../errors/index.js';
import { MAX_TOKEN_BYTES, SIGNING_CONTEXT, type SignedToken, TOKEN_VERSION, type TokenClaims } from './token.js';
import { claimsFromWire, claimsToWire } from './token-claims.js';

const DECODE_OPTIONS = { ...STRICT_DECODE, useMaps: false } as const;

const CONTEXT_BYTES = new TextEncoder().encode(SIGNING_CONTEXT);
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

function malformed(why: string): ElastosError {
  return new ElastosError('E_TOKEN_MALFORMED', `malformed token: ${why}`);
}

export function encodeCbor(value: unknown): Uint8Array {
  return encode(value, rfc8949EncodeOptions);
}

/** Decodes CBOR and insists the bytes are the one deterministic encoding of the value. */
function decodeCanonical(bytes: Uint8Array, what: string): unknown {
  let value: unknown;
  try {
    value = decode(bytes, DECODE_OPTIONS);
  } catch {
    throw malformed(`${what} is not CBOR`);
  }
  if (!Buffer.from(encodeCbor(value)).equals(bytes)) throw malformed(`${what} is not deterministic CBOR`);
  return value;
}

/** The exact bytes the runtime key signs: the context string, then the payload (spec §4). */
export function signingMessage(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONTEXT_BYTES.length + payload.length);
  out.set(CONTEXT_BYTES, 0);
  out.set(payload, CONTEXT_BYTES.length);
  return out;
}

/** Deterministic CBOR of the claims. */
export function encodePayload(claims: TokenClaims): Uint8Array {
  return encodeCbor(claimsToWire(claims));
}

/** The envelope, base64url. */
export function encodeEnvelope(payload: Uint8Array, signature: Uint8Array): string {
  const bytes = encodeCbor([payload, signature]);
  if (bytes.length > MAX_TOKEN_BYTES) throw new ElastosError('E_TOKEN_TOO_LARGE', `token of ${bytes.length} bytes`);
  return Buffer.from(bytes).toString('base64url');
}

/** Check 1 of spec §6: size, envelope, version, then every claim's type and bounds. */
export function decodeToken(encoded: unknown): SignedToken {
  if (typeof encoded !== 'string') throw malformed('not a string');
  if (encoded.length > Math.ceil((MAX_TOKEN_BYTES * 4) / 3)) {
    throw new ElastosError('E_TOKEN_TOO_LARGE', `token longer than ${MAX_TOKEN_BYTES} bytes`);
  }
  if (!B64URL_RE.test(encoded) || encoded.length % 4 === 1) throw malformed('not base64url');
  const bytes = new Uint8Array(Buffer.from(encoded, 'base64url'));
  if (Buffer.from(bytes).toString('base64url') !== encoded) throw malformed('not canonical base64url');
  const envelope = decodeCanonical(bytes, 'envelope');
  if (!Array.isArray(envelope) || envelope.length !== 2) throw malformed('envelope is not [payload, signature]');
  const [payload, signature] = envelope as unknown[];
  if (!(payload instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 64) {
    throw malformed('envelope needs a byte payload and a 64-byte signature');
  }
  const wire = decodeCanonical(payload, 'payload');
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw malformed('payload is not a map');
  const version = (wire as Record<string, unknown>).v;
  if (version !== TOKEN_VERSION) throw new ElastosError('E_TOKEN_VERSION', `token version ${String(version)}`);
  return { claims: claimsFromWire(wire as Record<string, unknown>), payload, signature, encoded };
}
