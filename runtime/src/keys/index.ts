export { sealAuthorizedKey, unsealAuthorizedKey } from './authorized-key.js';
export { DEV_KEY, loadOrCreateDevKey } from './dev-key.js';
export type { RuntimeKey } from './runtime-key.js';
export {
  type AuthorizedKeyRecord,
  type PcrKeyRecord,
  readSealedRecord,
  SEALED_KEY,
  type SealedKeyRecord,
  sealNewKey,
  unsealPcrKey,
} from './sealed-key.js';
export { SeedKey } from './seed-key.js';
