/**
 * The tokens' persisted state (runtime/spec/token.md §8): the epoch, revocations, issued
 * tokens and use counts. Memory is the truth for checks (exact, synchronous); every change
 * is a batch op that the caller commits with its audit record.
 */

import type { SignedToken } from '@elastos/protocol/tokens/token';
import { decodeToken } from '@elastos/protocol/tokens/token-codec';
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
   * Loads the state; tokens that expired a day before `now` or belong to an old epoch can never
   * pass again and are pruned with their counters (revocation marks stay: clocks can step back).
   */
  static async load(store: Store, now: number): Promise<TokenState> {
    const s = new TokenState(store);
    const epoch = await store.get('meta', EPOCH_KEY);
    s.epochValue = epoch ? Number.parseInt(dec(epoch), 10) : 0;
    for await (const [id] of entries(store, 'tokens', REVOKED)) s.revoked.add(id);
    const prune: BatchOp[] = [];
    for await (const [id, bytes] of entries(store, 'tokens', ISSUED)) {
      const token = decodeToken(dec(bytes));
      if (token.claims.expiry + PRUNE_AFTER_MS > now && token.claims.epoch === s.epochValue) {
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

  bumpEpoch(): BatchOp {
    this.epochValue += 1;
    return { type: 'put', sublevel: this.store.ns('meta'), key: EPOCH_KEY, value: enc(String(this.epochValue)) };
  }
}
