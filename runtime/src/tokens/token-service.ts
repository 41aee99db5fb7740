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
import type { Store } from '../store/index.js';
import type { KeyRing } from './key-ring.js';
import { TokenState } from './token-state.js';
import { type CheckedUse, TokenVerifier, type VerifierOptions, widens } from './token-verifier.js';

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

export interface TokenServiceOptions extends VerifierOptions {
  /** The longest lifetime the runtime signs, whatever the shell grants. */
  maxTtlMs?: number;
}

export class TokenService {
  readonly verifier: TokenVerifier;
  private readonly clock: () => number;
  private readonly maxTtlMs: number;

  private constructor(
    readonly keys: KeyRing,
    readonly state: TokenState,
    private readonly audit: AuditSink,
    options: TokenServiceOptions,
  ) {
    this.verifier = new TokenVerifier(keys, state, options);
    this.clock = options.clock ?? Date.now;
    this.maxTtlMs = options.maxTtlMs ?? 30 * 24 * 3600 * 1000;
  }

  static async open(store: Store, audit: AuditSink, keys: KeyRing, options: TokenServiceOptions = {}) {
    return new TokenService(keys, await TokenState.load(store, (options.clock ?? Date.now)()), audit, options);
  }

  get epoch(): number {
    return this.state.epoch;
  }

  /** All twelve checks; the returned ops must be committed with the audit record of the use. */
  check(encoded: unknown, ctx: RequestContext): CheckedUse {
    return this.verifier.check(encoded, ctx);
  }

  /** Signs a token for a decision the shell made; audited with `event` before it is returned. */
  async issue(req: IssueRequest, event: Partial<AuditEvent> = {}, parent?: SignedToken): Promise<SignedToken> {
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
      resource,
      action: req.action,
      notBefore: parent ? Math.max(now, parent.claims.notBefore) : now,
      expiry: parent ? Math.min(now + ttl, parent.claims.expiry) : now + ttl,
      maxUses: req.maxUses,
      epoch: this.state.epoch,
    };
    if (parent) claims.parent = parent.claims.id;
    if (req.caveats) claims.caveats = req.caveats;
    const token = await this.sign(claims);
    const ops = [this.state.recordIssued(token)];
    if (parent && parent.claims.maxUses !== 0) ops.push(this.state.takeUses(parent.claims.id, claims.maxUses));
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
    };
    const why = widens({ ...p, ...child, expiry: p.expiry, notBefore: p.notBefore, parent: p.id }, p);
    if (why) throw new ElastosError('E_TOKEN_DELEGATION', `delegation widens the parent: ${why}`);
    if (p.maxUses !== 0 && this.state.uses(p.id) + maxUses > p.maxUses) {
      throw new ElastosError('E_TOKEN_EXHAUSTED', 'the parent has not enough uses left');
    }
    return this.issue(child, { actor: `capsule:${caller}`, decision: 'allow' }, parent);
  }

  /** Revokes one token (and so its delegated descendants). */
  async revoke(id: string, actor: string): Promise<void> {
    if (!this.state.issued(id)) throw new ElastosError('E_NOT_FOUND', `no token ${id}`);
    await this.audit.append({ actor, type: 'token.revoke', tokenId: id }, [this.state.revoke(id)]);
  }

  /** The kill switch: every token issued so far stops working at once (spec §8.1). */
  async bumpEpoch(actor: string): Promise<number> {
    const op = this.state.bumpEpoch();
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

  private async sign(claims: TokenClaims): Promise<SignedToken> {
    const payload = encodePayload(claims);
    const signature = await this.keys.current.sign(signingMessage(payload));
    return decodeToken(encodeEnvelope(payload, signature));
  }
}
