/**
 * The twelve checks (runtime/spec/token.md §6). Decoding, the signature and the delegation chain
 * are verified once per exact token string and cached; holder, audience, scope, action, time,
 * issuer grace, epoch, revocation and uses are checked exactly on every request. Uses are
 * taken last, so a refused request never consumes one (no partial pass).
 */

import { inScope, normaliseResource } from '@elastos/protocol/tokens/resource';
import type { RequestContext, SignedToken, TokenClaims } from '@elastos/protocol/tokens/token';
import { decodeToken, signingMessage } from '@elastos/protocol/tokens/token-codec';
import { ElastosError } from '../errors/index.js';
import type { BatchOp } from '../store/index.js';
import { verifyEd25519 } from './ed25519.js';
import type { KeyRing } from './key-ring.js';
import type { TokenState } from './token-state.js';

export const MAX_DELEGATION_DEPTH = 8;
/** Distinct request resources whose canonical form is remembered (each at most 1024 chars). */
const RESOURCE_CACHE = 1024;

export interface VerifierOptions {
  clock?: () => number;
  /** The current identity of an installed capsule by name (spec §2.1); undefined when it has none. */
  identities?: (capsule: string) => string | undefined;
  /** The trusted time floor (spec §7.1): expiry is judged against the later of it and `clock`. */
  trustedClock?: () => number;
  /** Tolerance on not-before and expiry; 0 in the broker, which shares the issuer's clock (spec §7). */
  skewMs?: number;
  cacheEntries?: number;
}

export interface CheckedUse {
  token: SignedToken;
  /** The canonical resource of the request. */
  resource: string;
  /** Persist the use count; commit them with the audit record of the use. */
  ops: BatchOp[];
}

const fail = (code: ConstructorParameters<typeof ElastosError>[0], msg: string) => new ElastosError(code, msg);

/** Whether `child` only narrows `parent` (spec §9); the reason when it does not. */
export function widens(child: TokenClaims, parent: TokenClaims): string | undefined {
  if (child.audience !== parent.audience || child.audienceIdentity !== parent.audienceIdentity)
    return 'audience differs';
  if (!inScope(parent.resource, child.resource)) return 'resource outside the parent scope';
  if (child.action !== parent.action) return 'action differs';
  if (child.notBefore < parent.notBefore || child.expiry > parent.expiry) return 'lifetime exceeds the parent';
  if (parent.maxUses !== 0 && (child.maxUses === 0 || child.maxUses > parent.maxUses))
    return 'more uses than the parent';
  if (child.epoch !== parent.epoch) return 'epoch differs';
  for (const [k, v] of Object.entries(parent.caveats ?? {}))
    if (child.caveats?.[k] !== v) return `caveat ${k} of the parent is missing`;
  return undefined;
}

export class TokenVerifier {
  private readonly cache = new Map<string, SignedToken>();
  /** Canonical forms of recent request resources: `normaliseResource` is pure, so a hit is exact. */
  private readonly resources = new Map<string, string>();
  private readonly clock: () => number;
  private readonly trusted: () => number;
  private readonly identity: (capsule: string) => string | undefined;
  private readonly skewMs: number;
  private readonly cacheEntries: number;

  constructor(
    private readonly keys: KeyRing,
    private readonly state: TokenState,
    options: VerifierOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.trusted = options.trustedClock ?? (() => 0);
    this.identity = options.identities ?? (() => undefined);
    this.skewMs = options.skewMs ?? 0;
    this.cacheEntries = options.cacheEntries ?? 10_000;
  }

  /** All twelve checks for one use; throws the first failing check's code. */
  check(encoded: unknown, ctx: RequestContext): CheckedUse {
    const token = this.verified(encoded);
    const c = token.claims;
    const now = this.clock();
    if (!this.keys.accepts(c.issuer, now)) throw fail('E_TOKEN_ISSUER', 'issuer key is retired');
    this.assertHolder(c, ctx.holder);
    if (c.audience !== ctx.audience || c.audienceIdentity !== this.identity(ctx.audience))
      throw fail(
        'E_TOKEN_AUDIENCE',
        `token is for ${c.audience}${c.audience === ctx.audience ? ' as installed before' : ''}`,
      );
    const resource = this.canonical(ctx.resource);
    if (!inScope(c.resource, resource)) throw fail('E_TOKEN_SCOPE', `${resource} is outside ${c.resource}`);
    if (c.action !== ctx.action) throw fail('E_TOKEN_ACTION', `token allows ${c.action}, not ${ctx.action}`);
    this.assertCurrent(token, now);
    const ops = c.maxUses === 0 ? [] : [this.state.reserveUses(c.id, 1, c.maxUses)];
    return { token, resource, ops };
  }

  /** `normaliseResource`, remembered for the last RESOURCE_CACHE distinct strings (failures are not). */
  private canonical(raw: string): string {
    const hit = this.resources.get(raw);
    if (hit !== undefined) return hit;
    const resource = normaliseResource(raw);
    if (this.resources.size >= RESOURCE_CACHE) {
      const oldest = this.resources.keys().next().value;
      if (oldest !== undefined) this.resources.delete(oldest);
    }
    this.resources.set(raw, resource);
    return resource;
  }

  /** The checks that do not depend on a target: for a holder delegating its token (spec §9). */
  checkHeld(encoded: unknown, holder: string): SignedToken {
    const token = this.verified(encoded);
    const c = token.claims;
    if (!this.keys.accepts(c.issuer, this.clock())) throw fail('E_TOKEN_ISSUER', 'issuer key is retired');
    this.assertHolder(c, holder);
    this.assertCurrent(token, this.clock());
    return token;
  }

  /** Check 4: the holder by name and by identity (a reinstalled name is another capsule, spec §2.1). */
  private assertHolder(c: TokenClaims, holder: string): void {
    if (c.holder !== holder) throw fail('E_TOKEN_HOLDER', `token belongs to ${c.holder}`);
    if (c.holderIdentity !== this.identity(holder))
      throw fail('E_TOKEN_HOLDER', `token belongs to ${c.holder} as installed before`);
  }

  /**
   * Checks 8, 9, 11 and 12: time (a clock stepped back below the trusted floor cannot revive an
   * expired token), epoch, issued by this runtime, revocation of the token and its ancestors.
   */
  private assertCurrent(token: SignedToken, now: number): void {
    const c = token.claims;
    if (now + this.skewMs < c.notBefore) throw fail('E_TOKEN_NOT_YET_VALID', 'token is not valid yet');
    if (Math.max(now, this.trusted()) - this.skewMs >= c.expiry) throw fail('E_TOKEN_EXPIRED', 'token has expired');
    if (c.epoch !== this.state.epoch) throw fail('E_TOKEN_EPOCH', `token epoch ${c.epoch} is not ${this.state.epoch}`);
    if (this.state.issued(c.id)?.encoded !== token.encoded)
      throw fail('E_TOKEN_UNKNOWN', `token ${c.id} was never issued by this runtime`);
    this.assertNotRevoked(c);
  }

  /** Checks 1-3 and the delegation chain, once per exact token string. */
  verified(encoded: unknown): SignedToken {
    const hit = typeof encoded === 'string' ? this.cache.get(encoded) : undefined;
    if (hit) return hit;
    const token = decodeToken(encoded);
    const publicKey = this.keys.publicKeyOf(token.claims.issuer);
    if (!publicKey) throw fail('E_TOKEN_ISSUER', 'token was not issued by a runtime key');
    if (!verifyEd25519(token.signature, signingMessage(token.payload), publicKey)) {
      throw fail('E_TOKEN_SIGNATURE', 'token signature does not verify');
    }
    this.assertNarrows(token.claims);
    if (this.cache.size >= this.cacheEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token.encoded, token);
    return token;
  }

  /** A delegated token must only narrow its (known) parent, all the way up (spec §9). */
  private assertNarrows(claims: TokenClaims): void {
    let child = claims;
    for (let depth = 0; child.parent !== undefined; depth++) {
      const parent = this.state.issued(child.parent)?.claims;
      if (!parent) throw fail('E_TOKEN_DELEGATION', `unknown parent token ${child.parent}`);
      if (depth >= MAX_DELEGATION_DEPTH) throw fail('E_TOKEN_DELEGATION', 'delegation chain too deep');
      const why = widens(child, parent);
      if (why) throw fail('E_TOKEN_DELEGATION', `delegated token widens its parent: ${why}`);
      child = parent;
    }
  }

  /** Check 12: the token and every ancestor must not be revoked. */
  private assertNotRevoked(claims: TokenClaims): void {
    for (let c: TokenClaims | undefined = claims; c; c = c.parent ? this.state.issued(c.parent)?.claims : undefined) {
      if (this.state.isRevoked(c.id)) throw fail('E_TOKEN_REVOKED', `token ${c.id} was revoked`);
    }
  }
}
