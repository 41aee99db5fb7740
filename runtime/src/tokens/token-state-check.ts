/**
 * `audit verify`'s check of the token state against the trail (runtime/spec/token.md §8.3). The
 * records that the signed, TPM-anchored checkpoints commit to carry every revocation, epoch bump
 * and use; the store must hold at least what they say. Root with the disk who deletes a
 * revocation mark, lowers the stored epoch or resets a use counter is caught here, with
 * E_AUDIT_ROLLBACK at the record whose effect is gone. Run after the chain itself verified.
 */

import { type AuditRecord, decodeRecord } from '@elastos/protocol/audit/record';
import { decodeToken } from '@elastos/protocol/tokens/token-codec';
import { AuditFault } from '@elastos/verifier/audit/audit-fault';
import { RECORD_PREFIX, range, unpackRecord } from '../audit/layout.js';
import type { Store } from '../store/index.js';

export interface TokenStateReport {
  revocations: number;
  countedTokens: number;
  epoch: number;
}

/** What the trail says the state must include, each fact with the seq that established it. */
class Replay {
  readonly revoked = new Map<string, number>();
  readonly uses = new Map<string, { n: number; seq: number }>();
  epoch = { value: 0, seq: -1 };

  add(r: AuditRecord): void {
    const d = r.details ?? {};
    if (r.type === 'token.revoke' && r.tokenId) this.revoked.set(r.tokenId, r.seq);
    if ((r.type === 'capsule.remove' || r.type === 'capsule.install') && Array.isArray(d.revokedTokens))
      for (const id of d.revokedTokens) if (typeof id === 'string') this.revoked.set(id, r.seq);
    if (r.type === 'epoch.bump' && typeof d.epoch === 'number' && d.epoch >= this.epoch.value)
      this.epoch = { value: d.epoch, seq: r.seq };
    if (r.type === 'invoke' && r.decision === 'allow' && r.tokenId) this.use(r.tokenId, 1, r.seq);
    if (r.type === 'token.issue' && typeof d.parent === 'string' && typeof d.uses === 'number')
      this.use(d.parent, d.uses, r.seq);
  }

  private use(id: string, n: number, seq: number): void {
    this.uses.set(id, { n: (this.uses.get(id)?.n ?? 0) + n, seq });
  }
}

const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);
const rollback = (seq: number, why: string) => new AuditFault('E_AUDIT_ROLLBACK', seq, why);

/** Replays records `from..to` (already verified) and compares the store's token state with them. */
export async function verifyTokenState(store: Store, from: number, to: number): Promise<TokenStateReport> {
  const replay = new Replay();
  for await (const [, value] of store.ns('audit').iterator(range(RECORD_PREFIX, from, to))) {
    replay.add(decodeRecord(unpackRecord(value, -1).bytes));
  }
  for (const [id, seq] of replay.revoked)
    if ((await store.get('tokens', `r/${id}`)) === undefined)
      throw rollback(seq, `token ${id} was revoked, but its revocation mark is gone from the store`);
  const epoch = Number(text(await store.get('meta', 'tokens.epoch')) ?? 0);
  if (epoch < replay.epoch.value)
    throw rollback(replay.epoch.seq, `the stored epoch ${epoch} is below the audited epoch ${replay.epoch.value}`);
  let countedTokens = 0;
  for (const [id, { n, seq }] of replay.uses) {
    const issued = text(await store.get('tokens', `t/${id}`));
    // A pruned token's id is unknown, so it is refused for good: its counter no longer matters.
    if (issued === undefined || decodeToken(issued).claims.maxUses === 0) continue;
    countedTokens++;
    const stored = Number(text(await store.get('counters', `u/${id}`)) ?? 0);
    if (stored < n) throw rollback(seq, `token ${id} has ${n} audited uses, but its stored counter says ${stored}`);
  }
  return { revocations: replay.revoked.size, countedTokens, epoch };
}
