/**
 * Which runtime keys a token may be signed by (runtime/spec/token.md §6 check 3): the current
 * key, or a retired one until its grace period ends.
 */
import type { RuntimeKey } from '../keys/runtime-key.js';

export interface RetiredKey {
  keyId: string;
  publicKey: Uint8Array;
  /** When it stopped being the current key (ms since the epoch). */
  retiredAt: number;
}

export class KeyRing {
  private readonly retired = new Map<string, RetiredKey>();

  constructor(
    readonly current: RuntimeKey,
    retired: RetiredKey[] = [],
    private readonly graceMs = 0,
  ) {
    for (const k of retired) this.retired.set(k.keyId, k);
  }

  /** The public key named by a token's issuer, if it is one of ours at all. */
  publicKeyOf(keyId: string): Uint8Array | undefined {
    return keyId === this.current.keyId ? this.current.publicKey : this.retired.get(keyId)?.publicKey;
  }

  /** Whether tokens of this issuer are still accepted at `now`. */
  accepts(keyId: string, now: number): boolean {
    if (keyId === this.current.keyId) return true;
    const k = this.retired.get(keyId);
    return k !== undefined && now <= k.retiredAt + this.graceMs;
  }
}
