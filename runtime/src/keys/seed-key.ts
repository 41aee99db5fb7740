/**
 * A RuntimeKey from a 32-byte seed kept in the store: the dev key until the TPM-sealed key
 * (TPM issue) takes its place behind the same interface. Production never uses it.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.js';
import { ed, keyIdOf } from '../tokens/ed25519.js';
import type { RuntimeKey } from './runtime-key.js';

const SEED_KEY = 'runtime-key.dev-seed';

export class SeedKey implements RuntimeKey {
  readonly publicKey: Uint8Array;
  readonly keyId: string;

  private constructor(private readonly seed: Uint8Array) {
    this.publicKey = ed.getPublicKey(seed);
    this.keyId = keyIdOf(this.publicKey);
  }

  static fromSeed(seed: Uint8Array): SeedKey {
    if (seed.length !== 32) throw new RangeError('an Ed25519 seed has 32 bytes');
    return new SeedKey(seed);
  }

  static generate(): SeedKey {
    return new SeedKey(new Uint8Array(randomBytes(32)));
  }

  /** The dev key of this store, made on first use. */
  static async loadOrCreate(store: Store): Promise<SeedKey> {
    const seed = await store.get('meta', SEED_KEY);
    if (seed) return SeedKey.fromSeed(seed);
    const key = SeedKey.generate();
    await store.put('meta', SEED_KEY, key.seed, { sync: true });
    return key;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return ed.sign(message, this.seed);
  }
}
