import { randomBytes } from 'node:crypto';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { SeedKey } from './seed-key.js';

export const DEV_KEY = 'runtime-key/dev-seed';

/**
 * INSECURE, dev only (`--insecure-no-tpm`): the runtime key's seed kept in clear in the store.
 * Anyone who reads the store can sign as this runtime. Never used by the production profile.
 */
export async function loadOrCreateDevKey(store: Store): Promise<SeedKey> {
  let seed = await store.get('meta', DEV_KEY);
  if (!seed) {
    seed = randomBytes(32);
    await store.put('meta', DEV_KEY, seed, { sync: true });
  }
  if (seed.length !== 32) throw new ElastosError('E_STORE_CORRUPT', 'the dev key seed is not 32 bytes');
  return SeedKey.fromSeed(seed);
}
