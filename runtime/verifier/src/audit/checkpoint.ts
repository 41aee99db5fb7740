/**
 * Signed checkpoints (runtime/spec/audit.md §6): a Merkle root over a range of records, the
 * chain head, the TPM counter value, linked to the previous checkpoint, signed by the runtime key.
 * Their format and signature check; the runtime signs them (runtime/src/audit/checkpoint.ts).
 */
import { createHash } from 'node:crypto';
import { HASH_BYTES, sameBytes } from '@elastos/protocol/audit/record';
import { ElastosError } from '@elastos/protocol/errors';
import { verifyAsync } from '@noble/ed25519';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';

export const CHECKPOINT_DOMAIN = new TextEncoder().encode('elastos/audit/checkpoint/v1\0');

export interface CheckpointBody {
  v: number;
  index: number;
  from: number;
  to: number;
  count: number;
  root: Uint8Array;
  head: Uint8Array;
  prev: Uint8Array;
  counter: number;
  time: number;
  keyId: string;
}

/** A stored checkpoint: its canonical body bytes, the signature, and what they say. */
export interface SignedCheckpoint {
  body: CheckpointBody;
  bodyBytes: Uint8Array;
  sig: Uint8Array;
  /** SHA-256 of the body bytes: what is extended into the TPM (§7). */
  hash: Uint8Array;
}

const DECODE_OPTIONS = { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false } as const;
const UINTS = ['v', 'index', 'from', 'to', 'count', 'counter', 'time'] as const;
const HASHES = ['root', 'head', 'prev'] as const;

export const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export function encodeBody(body: CheckpointBody): Uint8Array {
  return encode({ ...body }, rfc8949EncodeOptions);
}

const bad = (why: string) => new ElastosError('E_AUDIT_CHECKPOINT', `checkpoint does not decode: ${why}`);

function decodeMap(bytes: Uint8Array): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = decode(bytes, DECODE_OPTIONS);
  } catch (cause) {
    throw bad((cause as Error).message);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array)
    throw bad('not a map');
  return raw as Record<string, unknown>;
}

/** Decodes a checkpoint body; anything but a canonical v1 body is E_AUDIT_CHECKPOINT. */
export function decodeBody(bytes: Uint8Array): CheckpointBody {
  const m = decodeMap(bytes);
  const keys = new Set<string>([...UINTS, ...HASHES, 'keyId']);
  for (const k of Object.keys(m)) if (!keys.has(k)) throw bad(`unknown field ${k}`);
  for (const k of UINTS) if (!Number.isSafeInteger(m[k]) || (m[k] as number) < 0) throw bad(`bad ${k}`);
  for (const k of HASHES)
    if (!(m[k] instanceof Uint8Array) || (m[k] as Uint8Array).length !== HASH_BYTES) throw bad(`bad ${k}`);
  if (typeof m.keyId !== 'string') throw bad('bad keyId');
  const body = m as unknown as CheckpointBody;
  if (body.v !== 1) throw bad(`unknown version ${body.v}`);
  if (body.count !== body.to - body.from + 1 || body.count < 1) throw bad('count does not match from..to');
  if (!sameBytes(encodeBody(body), bytes)) throw bad('not in canonical form');
  return body;
}

/** The stored form: CBOR `{body, sig}`. */
export function packCheckpoint(c: SignedCheckpoint): Uint8Array {
  return encode({ body: c.bodyBytes, sig: c.sig }, rfc8949EncodeOptions);
}

export function unpackCheckpoint(value: Uint8Array): SignedCheckpoint {
  const m = decodeMap(value);
  if (!(m.body instanceof Uint8Array) || !(m.sig instanceof Uint8Array) || Object.keys(m).length !== 2)
    throw bad('not {body, sig}');
  return { body: decodeBody(m.body), bodyBytes: m.body, sig: m.sig, hash: sha256(m.body) };
}

/** True when the signature verifies under `publicKey`; false on any malformed input. */
export async function checkpointSignatureOk(c: SignedCheckpoint, publicKey: Uint8Array): Promise<boolean> {
  try {
    return await verifyAsync(c.sig, concat(CHECKPOINT_DOMAIN, c.bodyBytes), publicKey);
  } catch {
    return false;
  }
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
