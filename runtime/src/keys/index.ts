export { DEV_KEY, loadOrCreateDevKey } from './dev-key.js';
export type { RuntimeKey } from './runtime-key.js';
export { readSealedRecord, SEALED_KEY, type SealedKeyRecord, sealNewKey, unsealKey } from './sealed-key.js';
export { SeedKey } from './seed-key.js';
