import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';
import type { RuntimeKey } from './runtime-key.js';

/** keyId: hex of the first 8 bytes of SHA-256(publicKey) (runtime-key.ts). */
export function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest().subarray(0, 8).toString('hex');
}

/**
 * An Ed25519 key held in memory from its 32-byte seed (RFC 8032 §5.1.5). The seed comes from
 * the TPM (unsealed at boot) or, in the insecure dev mode only, from the store.
 */
export class SeedKey implements RuntimeKey {
  readonly keyId: string;

  private constructor(
    private readonly seed: Uint8Array,
    readonly publicKey: Uint8Array,
  ) {
    this.keyId = keyIdOf(publicKey);
  }

  static async fromSeed(seed: Uint8Array): Promise<SeedKey> {
    if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
    const copy = Uint8Array.from(seed);
    return new SeedKey(copy, await ed.getPublicKeyAsync(copy));
  }

  /** RFC 8032 §5.1.6. */
  sign(message: Uint8Array): Promise<Uint8Array> {
    return ed.signAsync(message, this.seed);
  }
}
