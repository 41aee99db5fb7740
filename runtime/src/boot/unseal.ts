import type { Tpm } from '@elastos/node-tpm2';
import type { ElastosConfig } from '../config/index.js';
import { ElastosError } from '../errors/index.js';
import { unsealAuthorizedKey } from '../keys/authorized-key.js';
import { type SealedKeyRecord, unsealPcrKey } from '../keys/sealed-key.js';
import type { SeedKey } from '../keys/seed-key.js';
import { readSignedPolicy, type SignedPolicyFile } from './signed-policy.js';

/** The release's signed policy named by `tpm.pcrSigning` (runtime/spec/boot.md §4.1). */
export function releasePolicy(config: ElastosConfig): SignedPolicyFile {
  const ps = config.tpm.pcrSigning;
  if (!ps) throw new ElastosError('E_TPM_POLICY_INVALID', 'tpm.pcrSigning names no signed PCR policy');
  return readSignedPolicy(ps.policy);
}

/** Unseals the runtime key the way it was sealed: to the runtime's PCR (§4), or through the release's signed policy (§4.1). */
export function unsealRuntimeKey(tpm: Tpm, record: SealedKeyRecord, config: ElastosConfig): Promise<SeedKey> {
  if (record.version === 1) return unsealPcrKey(tpm, record, config.tpm.pcr);
  return unsealAuthorizedKey(tpm, record, releasePolicy(config));
}
