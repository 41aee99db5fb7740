/**
 * Issuing, delegating, revoking and the epoch (runtime/spec/token.md §8, §9). Every change is
 * committed in the same synced batch as its audit record, before anyone sees its result.
 */

import { randomBytes } from 'node:crypto';
import type { TokenSummary } from '@elastos/protocol/admin/replies';
import { normaliseResource } from '@elastos/protocol/tokens/resource';
import {
  isAction,
  type RequestContext,
  type SignedToken,
  TOKEN_VERSION,
  type TokenClaims,
} from '@elastos/protocol/tokens/token';
import { decodeToken, encodeEnvelope, encodePayload, signingMessage } from '@elastos/protocol/tokens/token-codec';
import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import { ElastosError } from '../errors/index.js';
import type { BatchOp, Store } from '../store/index.js';
import type { KeyRing } from './key-ring.js';
import { TokenState } from './token-state.js';
import { type CheckedUse, TokenVerifier, type VerifierOptions, widens } from './token-verifier.js';
import { TrustedTime } from './trusted-time.js';

export interface IssueRequest {
  holder: string;
  audience: string;
  resource: string;
  action: string;
  ttlMs: number;
  /** 0 means unlimited. */
  maxUses: number;
  caveats?: Record<string, string>;
}

export interface DelegateRequest {
  holder: string;
  resource?: string;
  action?: string;
  ttlMs?: number;
  maxUses?: number;
}

export type { TokenSummary };

export interface TokenServiceOptions extends Omit<VerifierOptions, 'trustedClock'> {
  /** The longest lifetime the runtime signs, whatever the shell grants. */
  maxTtlMs?: number;
  /** Monotonic milliseconds for the trusted time (spec §7.1); tests inject one. */
  monotonic?: () => number;
  /** The TPM NV counter that is the epoch's floor (spec §8.1); absent only without a TPM. */
  epochCounter?: EpochCounter;
}

/** A monotonic counter outside the disk (`TpmNvCounter`); `increment` resolves to its new value. */
export interface EpochCounter {
  read(): Promise<number>;
  increment(): Promise<number>;
}

/** The `ep` claim is a uint32 (spec §2): a counter beyond it cannot be an epoch. */
async function epochFloor(counter: EpochCounter | undefined): Promise<number> {
  const floor = counter ? await counter.read() : 0;
  if (floor > 0xffff_ffff) throw new ElastosError('E_TPM_COMMAND', `the epoch counter ${floor} exceeds 2^32-1`);
  return floor;
}

export class TokenService {
  readonly verifier: TokenVerifier;
  private readonly clock: () => number;
  private readonly identity: (capsule: string) => string | undefined;
  private readonly maxTtlMs: number;

  private constructor(
    readonly keys: KeyRing,
    readonly state: TokenState,
    private readonly audit: AuditSink,
    readonly trusted: TrustedTime,
    private readonly options: TokenServiceOptions,
  ) {
    this.verifier = new TokenVerifier(keys, state, { ...options, trustedClock: () => trusted.now() });
    this.clock = options.clock ?? Date.now;
    this.identity = options.identities ?? (() => undefined);
    this.maxTtlMs = options.maxTtlMs ?? 30 * 24 * 3600 * 1000;
  }

  static async open(store: Store, audit: AuditSink, keys: KeyRing, options: TokenServiceOptions = {}) {
    const trusted = await TrustedTime.load(store, options.clock ?? Date.now, options.monotonic);
    const state = await TokenState.load(store, trusted.now(), await epochFloor(options.epochCounter));
    return new TokenService(keys, state, audit, trusted, options);
  }

  /** Persists the trusted time (at stop). */
  close(): Promise<void> {
    return this.trusted.persist();
  }

  get epoch(): number {
    return this.state.epoch;
  }

  /** All twelve checks; the returned ops must be committed with the audit record of the use. */
  check(encoded: unknown, ctx: RequestContext): CheckedUse {
    return this.verifier.check(encoded, ctx);
  }

  /** Signs a token for a decision the shell made; audited with `event` before it is returned. */
  async issue(req: IssueRequest, event: Partial<AuditEvent> = {}): Promise<SignedToken> {
    return this.sign(req, event);
  }

  /**
   * Builds, signs, records and audits one token. `reserved` are the parent's uses, already taken
   * before this call (spec §9): nothing between a check and its commit may await.
   */
  private async sign(
    req: IssueRequest,
    event: Partial<AuditEvent>,
    parent?: SignedToken,
    reserved: BatchOp[] = [],
  ): Promise<SignedToken> {
    const resource = normaliseResource(req.resource);
    if (!isAction(req.action)) throw new ElastosError('E_USAGE', `unknown action ${req.action}`);
    const now = this.clock();
    const ttl = Math.max(0, Math.min(req.ttlMs, this.maxTtlMs));
    const claims: TokenClaims = {
      version: TOKEN_VERSION,
      id: randomBytes(16).toString('hex'),
      issuer: this.keys.current.keyId,
      holder: req.holder,
      audience: req.audience,
      ...this.identitiesOf(req.holder, parent ? parent.claims.audienceIdentity : this.identity(req.audience)),
      resource,
      action: req.action,
      notBefore: parent ? Math.max(now, parent.claims.notBefore) : now,
      expiry: parent ? Math.min(now + ttl, parent.claims.expiry) : now + ttl,
      maxUses: req.maxUses,
      epoch: this.state.epoch,
    };
    if (parent) claims.parent = parent.claims.id;
    if (req.caveats) claims.caveats = req.caveats;
    const token = await this.signClaims(claims);
    // A bump while it was signed: the token would be dead on arrival, so it is refused instead.
    if (claims.epoch !== this.state.epoch)
      throw new ElastosError('E_TOKEN_EPOCH', 'the epoch changed while the token was being signed');
    const ops = [this.state.recordIssued(token), ...reserved, this.trusted.op()];
    await this.audit.append(
      { actor: 'runtime', type: 'token.issue', ...event, resource, action: req.action, tokenId: claims.id },
      ops,
    );
    return token;
  }

  /** A narrower token for another capsule, from a token `caller` holds; its uses come out of the parent's. */
  async delegate(parentEncoded: unknown, caller: string, req: DelegateRequest): Promise<SignedToken> {
    const parent = this.verifier.checkHeld(parentEncoded, caller);
    const p = parent.claims;
    const maxUses = req.maxUses ?? (p.maxUses === 0 ? 0 : 1);
    const child = {
      holder: req.holder,
      audience: p.audience,
      resource: normaliseResource(req.resource ?? p.resource),
      action: req.action ?? p.action,
      ttlMs: req.ttlMs ?? p.expiry - this.clock(),
      maxUses,
      // A child carries every caveat of its chain (spec §9): delegating never drops a condition.
      ...(p.caveats ? { caveats: { ...p.caveats } } : {}),
    };
    const why = widens({ ...p, ...child, expiry: p.expiry, notBefore: p.notBefore, parent: p.id }, p);
    if (why) throw new ElastosError('E_TOKEN_DELEGATION', `delegation widens the parent: ${why}`);
    // Taken now, synchronously, as an invoke takes its use: concurrent frames cannot spend them twice.
    const reserved = p.maxUses === 0 ? [] : [this.state.reserveUses(p.id, maxUses, p.maxUses)];
    // The uses taken from the parent are in the record, so `audit verify` can count them (§8.3).
    const details = p.maxUses === 0 ? {} : { details: { parent: p.id, uses: maxUses } };
    return this.sign(child, { actor: `capsule:${caller}`, decision: 'allow', ...details }, parent, reserved);
  }

  /** Revokes one token (and so its delegated descendants). */
  async revoke(id: string, actor: string): Promise<void> {
    if (!this.state.issued(id)) throw new ElastosError('E_NOT_FOUND', `no token ${id}`);
    await this.audit.append({ actor, type: 'token.revoke', tokenId: id }, [this.state.revoke(id)]);
  }

  /** The kill switch: every token issued so far stops working at once (spec §8.1). */
  async bumpEpoch(actor: string): Promise<number> {
    // The TPM counter first: once it moved, no rollback of the store can bring the old epoch back.
    const floor = this.options.epochCounter ? await this.options.epochCounter.increment() : 0;
    const op = this.state.bumpEpoch(floor);
    const epoch = this.state.epoch;
    await this.audit.append({ actor, type: 'epoch.bump', details: { epoch } }, [op]);
    return epoch;
  }

  /** Live tokens: current epoch, not expired, not revoked, uses left. */
  list(): TokenSummary[] {
    const now = this.clock();
    const out: TokenSummary[] = [];
    for (const t of this.state.allIssued()) {
      const c = t.claims;
      const uses = this.state.uses(c.id);
      const live = c.epoch === this.state.epoch && now < c.expiry && !this.revokedChain(c);
      if (!live || (c.maxUses !== 0 && uses >= c.maxUses)) continue;
      const { id, holder, audience, resource, action, maxUses } = c;
      out.push({
        id,
        holder,
        audience,
        resource,
        action,
        expiry: new Date(c.expiry).toISOString(),
        uses,
        maxUses,
        parent: c.parent ?? null,
      });
    }
    return out;
  }

  private revokedChain(c: TokenClaims | undefined): boolean {
    for (; c; c = c.parent ? this.state.issued(c.parent)?.claims : undefined)
      if (this.state.isRevoked(c.id)) return true;
    return false;
  }

  /** The current identity of an installed capsule (spec §2.1), undefined when it has none. */
  identityOf(capsule: string): string | undefined {
    return this.identity(capsule);
  }

  /** The identity claims (spec §2.1): only those that exist, so the token is strict CBOR. */
  private identitiesOf(holder: string, audienceIdentity: string | undefined): Partial<TokenClaims> {
    const holderIdentity = this.identity(holder);
    return {
      ...(holderIdentity !== undefined ? { holderIdentity } : {}),
      ...(audienceIdentity !== undefined ? { audienceIdentity } : {}),
    };
  }

  /**
   * Revokes every token held by or addressed to `capsule` (spec §9.1), when it is removed or its
   * name starts a new install. Taken in memory now; the ops go in the capsule change's batch.
   */
  revokeCapsule(capsule: string): { ids: string[]; ops: BatchOp[] } {
    const ids: string[] = [];
    const ops: BatchOp[] = [];
    for (const t of this.state.allIssued()) {
      const c = t.claims;
      if ((c.holder !== capsule && c.audience !== capsule) || this.state.isRevoked(c.id)) continue;
      ids.push(c.id);
      ops.push(this.state.revoke(c.id));
    }
    return { ids, ops };
  }

  private async signClaims(claims: TokenClaims): Promise<SignedToken> {
    const payload = encodePayload(claims);
    const signature = await this.keys.current.sign(signingMessage(payload));
    return decodeToken(encodeEnvelope(payload, signature));
  }
}
