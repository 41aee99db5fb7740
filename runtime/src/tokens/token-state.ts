/**
 * The tokens' persisted state (runtime/spec/token.md §8): the epoch, revocations, issued
 * tokens and use counts. Memory is the truth for checks (exact, synchronous); every change
 * is a batch op that the caller commits with its audit record.
 */

import type { SignedToken } from '@elastos/protocol/tokens/token';
import { decodeToken } from '@elastos/protocol/tokens/token-codec';
import { ElastosError } from '../errors/index.js';
import type { BatchOp, Store } from '../store/index.js';

const EPOCH_KEY = 'tokens.epoch';
const ISSUED = 't/';
const REVOKED = 'r/';
const USES = 'u/';
const PRUNE_AFTER_MS = 24 * 3600 * 1000;
const encoder = new TextEncoder();
const enc = (s: string) => encoder.encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function* entries(store: Store, ns: 'tokens' | 'counters', prefix: string) {
  const it = store.ns(ns).iterator({ gte: prefix, lt: `${prefix}\uffff` });
  for await (const [key, value] of it) yield [key.slice(prefix.length), value] as const;
}

export class TokenState {
  private epochValue = 0;
  private readonly revoked = new Set<string>();
  private readonly issuedTokens = new Map<string, SignedToken>();
  private readonly useCounts = new Map<string, number>();

  private constructor(private readonly store: Store) {}

  /**
   * Loads the state. Tokens of an old epoch, or that expired a day before the trusted time
   * `trustedNow` (never the wall clock: spec §7.1), can never pass again: they are pruned with
   * their counters, and their ids become unknown, so they are refused for good (check 12).
   * Revocation marks stay.
   */
  static async load(store: Store, trustedNow: number, epochFloor = 0): Promise<TokenState> {
    const s = new TokenState(store);
    const epoch = await store.get('meta', EPOCH_KEY);
    // The TPM's counter is the floor: a store rolled back to an older epoch cannot lower it (§8.1).
    s.epochValue = Math.max(epoch ? Number.parseInt(dec(epoch), 10) : 0, epochFloor);
    for await (const [id] of entries(store, 'tokens', REVOKED)) s.revoked.add(id);
    const prune: BatchOp[] = [];
    for await (const [id, bytes] of entries(store, 'tokens', ISSUED)) {
      const token = decodeToken(dec(bytes));
      if (token.claims.expiry + PRUNE_AFTER_MS > trustedNow && token.claims.epoch === s.epochValue) {
        s.issuedTokens.set(id, token);
        continue;
      }
      prune.push({ type: 'del', sublevel: store.ns('tokens'), key: `${ISSUED}${id}` });
      prune.push({ type: 'del', sublevel: store.ns('counters'), key: `${USES}${id}` });
    }
    for await (const [id, n] of entries(store, 'counters', USES)) {
      if (s.issuedTokens.has(id)) s.useCounts.set(id, Number.parseInt(dec(n), 10));
    }
    if (prune.length > 0) await store.batch(prune, { sync: true });
    return s;
  }

  get epoch(): number {
    return this.epochValue;
  }

  isRevoked(id: string): boolean {
    return this.revoked.has(id);
  }

  issued(id: string): SignedToken | undefined {
    return this.issuedTokens.get(id);
  }

  allIssued(): IterableIterator<SignedToken> {
    return this.issuedTokens.values();
  }

  uses(id: string): number {
    return this.useCounts.get(id) ?? 0;
  }

  /**
   * Takes `n` uses now (memory first, so concurrent requests see them) and returns the op that
   * persists the new count. If the batch fails the uses stay taken: fail closed (spec §8.2).
   */
  takeUses(id: string, n = 1): BatchOp {
    const count = this.uses(id) + n;
    this.useCounts.set(id, count);
    return { type: 'put', sublevel: this.store.ns('counters'), key: `${USES}${id}`, value: enc(String(count)) };
  }

  /**
   * Reserves `n` of a limited token's `max` uses synchronously, or throws E_TOKEN_EXHAUSTED: the
   * check and the take are one step, so no await can let a concurrent request spend them twice.
   */
  reserveUses(id: string, n: number, max: number): BatchOp {
    if (this.uses(id) + n > max) throw new ElastosError('E_TOKEN_EXHAUSTED', 'not enough uses left');
    return this.takeUses(id, n);
  }

  recordIssued(token: SignedToken): BatchOp {
    this.issuedTokens.set(token.claims.id, token);
    return {
      type: 'put',
      sublevel: this.store.ns('tokens'),
      key: `${ISSUED}${token.claims.id}`,
      value: enc(token.encoded),
    };
  }

  revoke(id: string): BatchOp {
    this.revoked.add(id);
    return { type: 'put', sublevel: this.store.ns('tokens'), key: `${REVOKED}${id}`, value: new Uint8Array(0) };
  }

  /** The next epoch: one more than now, and at least `floor` (the TPM counter's new value). */
  bumpEpoch(floor = 0): BatchOp {
    this.epochValue = Math.max(this.epochValue + 1, floor);
    return { type: 'put', sublevel: this.store.ns('meta'), key: EPOCH_KEY, value: enc(String(this.epochValue)) };
  }
}
