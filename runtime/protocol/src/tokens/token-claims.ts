/**
 * Claims <-> the payload map with short keys (runtime/spec/token.md §2). `claimsFromWire` is
 * the structure check: exact key set, types and bounds; anything else is E_TOKEN_MALFORMED.
 */
import { ElastosError } from '../errors/index.js';
import { normaliseResource } from './resource.js';
import { CAPSULE_ID_RE, IDENTITY_RE, isAction, TOKEN_ID_RE, type TokenClaims } from './token.js';

const REQUIRED = ['v', 'id', 'iss', 'hol', 'aud', 'res', 'act', 'nbf', 'exp', 'max', 'ep'] as const;
const OPTIONAL = ['hid', 'aid', 'par', 'cav'] as const;
const KNOWN = new Set<string>([...REQUIRED, ...OPTIONAL]);
const KEY_ID_RE = /^[0-9a-f]{16}$/;
const CAVEAT_KEY_RE = /^[a-z][a-z0-9_-]{0,31}$/;
export const MAX_CAVEATS = 16;
export const MAX_CAVEAT_LENGTH = 256;
const MAX_U32 = 0xffff_ffff;

function malformed(why: string): ElastosError {
  return new ElastosError('E_TOKEN_MALFORMED', `malformed token: ${why}`);
}

function text(w: Record<string, unknown>, key: string, re: RegExp): string {
  const v = w[key];
  if (typeof v !== 'string' || !re.test(v)) throw malformed(`bad ${key}`);
  return v;
}

function uint(w: Record<string, unknown>, key: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = w[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw malformed(`bad ${key}`);
  return v;
}

function resourceOf(w: Record<string, unknown>): string {
  const v = w.res;
  try {
    if (normaliseResource(v) === v) return v as string;
  } catch {
    // fall through: a resource that does not normalise is a malformed token
  }
  throw malformed('resource is not canonical');
}

function caveatsOf(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed('caveats are not a map');
  const entries = Object.entries(v);
  if (entries.length === 0 || entries.length > MAX_CAVEATS) throw malformed('caveat count');
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (!CAVEAT_KEY_RE.test(k) || typeof val !== 'string' || val.length > MAX_CAVEAT_LENGTH) {
      throw malformed(`bad caveat ${k.slice(0, 32)}`);
    }
    out[k] = val;
  }
  return out;
}

/** The payload map's claims, checked (spec §2 table). */
export function claimsFromWire(w: Record<string, unknown>): TokenClaims {
  for (const key of Object.keys(w)) if (!KNOWN.has(key)) throw malformed(`unknown field ${key.slice(0, 32)}`);
  for (const key of REQUIRED) if (!Object.hasOwn(w, key)) throw malformed(`missing ${key}`);
  const act = w.act;
  if (typeof act !== 'string' || !isAction(act)) throw malformed('bad act');
  const claims: TokenClaims = {
    version: uint(w, 'v'),
    id: text(w, 'id', TOKEN_ID_RE),
    issuer: text(w, 'iss', KEY_ID_RE),
    holder: text(w, 'hol', CAPSULE_ID_RE),
    audience: text(w, 'aud', CAPSULE_ID_RE),
    resource: resourceOf(w),
    action: act,
    notBefore: uint(w, 'nbf'),
    expiry: uint(w, 'exp'),
    maxUses: uint(w, 'max', MAX_U32),
    epoch: uint(w, 'ep', MAX_U32),
  };
  if (claims.notBefore > claims.expiry) throw malformed('nbf after exp');
  if (Object.hasOwn(w, 'hid')) claims.holderIdentity = text(w, 'hid', IDENTITY_RE);
  if (Object.hasOwn(w, 'aid')) claims.audienceIdentity = text(w, 'aid', IDENTITY_RE);
  if (Object.hasOwn(w, 'par')) claims.parent = text(w, 'par', TOKEN_ID_RE);
  if (Object.hasOwn(w, 'cav')) claims.caveats = caveatsOf(w.cav);
  return claims;
}

/** The claims as the payload map; checked by a round trip so the runtime never signs a bad token. */
export function claimsToWire(c: TokenClaims): Record<string, unknown> {
  const w: Record<string, unknown> = {
    v: c.version,
    id: c.id,
    iss: c.issuer,
    hol: c.holder,
    aud: c.audience,
    res: c.resource,
    act: c.action,
    nbf: c.notBefore,
    exp: c.expiry,
    max: c.maxUses,
    ep: c.epoch,
  };
  if (c.holderIdentity !== undefined) w.hid = c.holderIdentity;
  if (c.audienceIdentity !== undefined) w.aid = c.audienceIdentity;
  if (c.parent !== undefined) w.par = c.parent;
  if (c.caveats !== undefined) w.cav = c.caveats;
  claimsFromWire(w);
  return w;
}
