/**
 * The audit record and its hash chain (runtime/spec/audit.md §1-§3): deterministic CBOR
 * (RFC 8949 §4.2.1 core deterministic encoding), hash = SHA-256(previous hash ‖ record bytes).
 */
import { createHash } from 'node:crypto';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { ElastosError, type ErrorCode, isErrorCode } from '../errors/index.js';
import type { AuditEvent } from './event.js';

export const RECORD_VERSION = 1;
export const HASH_BYTES = 32;
/** The previous hash of record 0 (spec §3). */
export const GENESIS_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

const DECISIONS = new Set(['allow', 'deny', 'ask', 'allow-log']);
const DECODE_OPTIONS = { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false } as const;

/** One record as stored: the event plus its place in the log (spec §1). */
export interface AuditRecord extends AuditEvent {
  v: number;
  seq: number;
  /** Milliseconds since the Unix epoch, from the runtime's clock. */
  time: number;
}

/** Canonical bytes of a record; absent optional fields are omitted, never encoded as null. */
export function encodeRecord(record: AuditRecord): Uint8Array {
  const out: Record<string, unknown> = { v: record.v, seq: record.seq, time: record.time, actor: record.actor };
  out.type = record.type;
  for (const key of ['resource', 'action', 'decision', 'code', 'tokenId', 'details'] as const) {
    if (record[key] !== undefined) out[key] = record[key];
  }
  return encode(out, rfc8949EncodeOptions);
}

/** SHA-256(prev ‖ bytes): the chain hash of a record (spec §3). */
export function chainHash(prev: Uint8Array, bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(prev).update(bytes).digest();
}

function fail(message: string): never {
  throw new ElastosError('E_STORE_CORRUPT', `audit record: ${message}`);
}

function optString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(`${name} is not a string`);
  return value;
}

/** Decodes stored record bytes; rejects anything that is not a canonical record with E_STORE_CORRUPT. */
export function decodeRecord(bytes: Uint8Array): AuditRecord {
  let raw: unknown;
  try {
    raw = decode(bytes, DECODE_OPTIONS);
  } catch (cause) {
    throw new ElastosError('E_STORE_CORRUPT', `audit record does not decode: ${(cause as Error).message}`, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) fail('not a map');
  const r = raw as Record<string, unknown>;
  const known = new Set(['v', 'seq', 'time', 'actor', 'type', 'resource', 'action', 'decision', 'code', 'tokenId']);
  for (const key of Object.keys(r)) if (!known.has(key) && key !== 'details') fail(`unknown field ${key}`);
  if (r.v !== RECORD_VERSION) fail(`unknown version ${String(r.v)}`);
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 0) fail('bad seq');
  if (!Number.isSafeInteger(r.time)) fail('bad time');
  const actor = optString(r.actor, 'actor');
  const type = optString(r.type, 'type');
  if (actor === undefined || type === undefined) fail('actor and type are required');
  const decision = optString(r.decision, 'decision');
  if (decision !== undefined && !DECISIONS.has(decision)) fail(`bad decision ${decision}`);
  const code = optString(r.code, 'code');
  if (code !== undefined && !isErrorCode(code)) fail(`unknown code ${code}`);
  const details = r.details;
  if (details !== undefined && (typeof details !== 'object' || details === null || Array.isArray(details)))
    fail('details is not a map');
  const record: AuditRecord = { v: RECORD_VERSION, seq: r.seq as number, time: r.time as number, actor, type };
  const resource = optString(r.resource, 'resource');
  const action = optString(r.action, 'action');
  const tokenId = optString(r.tokenId, 'tokenId');
  if (resource !== undefined) record.resource = resource;
  if (action !== undefined) record.action = action;
  if (decision !== undefined) record.decision = decision as AuditRecord['decision'];
  if (code !== undefined) record.code = code as ErrorCode;
  if (tokenId !== undefined) record.tokenId = tokenId;
  if (details !== undefined) record.details = details as Record<string, unknown>;
  if (!sameBytes(encodeRecord(record), bytes)) fail('not in canonical form');
  return record;
}

/** True for what §1 allows in `details`: text, safe integers, finite numbers, booleans, null, arrays, plain maps. */
function jsonLike(value: unknown, depth: number): boolean {
  if (depth > 32) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value));
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) return value.every((v) => jsonLike(v, depth + 1));
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      return Object.values(value).every((v) => jsonLike(v, depth + 1));
    }
    default:
      return false;
  }
}

/**
 * Checks an event before it is written, cheaply, so that the log never holds a record the
 * verifier's `decodeRecord` would reject. Throws a TypeError naming the field.
 */
export function checkEvent(e: AuditEvent): void {
  if (typeof e.actor !== 'string' || typeof e.type !== 'string') throw new TypeError('actor and type must be strings');
  for (const k of ['resource', 'action', 'tokenId'] as const)
    if (e[k] !== undefined && typeof e[k] !== 'string') throw new TypeError(`${k} must be a string`);
  if (e.decision !== undefined && !DECISIONS.has(e.decision)) throw new TypeError(`bad decision ${String(e.decision)}`);
  if (e.code !== undefined && !isErrorCode(e.code)) throw new TypeError(`unknown error code ${String(e.code)}`);
  const d = e.details;
  if (d !== undefined && (typeof d !== 'object' || d === null || Array.isArray(d) || !jsonLike(d, 0)))
    throw new TypeError('details must be a map of JSON-like values');
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
