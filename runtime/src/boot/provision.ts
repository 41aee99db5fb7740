import { readFileSync } from 'node:fs';
import type { Tpm } from '@elastos/node-tpm2';
import { appendOffline } from '../audit/offline.js';
import type { ElastosConfig } from '../config/index.js';
import { ElastosError, hasCode } from '../errors/index.js';
import { sealAuthorizedKey } from '../keys/authorized-key.js';
import { readSealedRecord, type SealedKeyRecord, sealNewKey } from '../keys/sealed-key.js';
import type { Store } from '../store/index.js';
import type { CodeSet } from './measure.js';
import { MeasuredBoot } from './measured-boot.js';
import { eventLogPath, openTpm } from './tpm-boot.js';
import { releasePolicy, unsealRuntimeKey } from './unseal.js';

/**
 * `new`: first provisioning (refused if a key is sealed). `reseal`: after an authorised update,
 * seal a NEW runtime key to the current measurements (the old one cannot be unsealed any more;
 * its keyId is kept as previousKeyId). `if-needed`: provision when nothing is sealed, else check
 * that the key unseals (E_TPM_PCR_MISMATCH when it does not).
 */
export type ProvisionMode = 'new' | 'reseal' | 'if-needed';

export interface ProvisionResult {
  action: 'provisioned' | 'resealed' | 'unchanged';
  keyId: string;
  publicKey: string;
  /** The runtime's PCR and the value measured now. */
  pcr: number;
  pcrValue: string;
  /** `pcr`: sealed to that PCR value (§4); `signed-policy`: to the vendor's signed policies (§4.1). */
  sealedTo: 'pcr' | 'signed-policy';
  previousKeyId?: string;
}

const result = (
  action: ProvisionResult['action'],
  r: SealedKeyRecord,
  pcr: number,
  pcrValue: string,
): ProvisionResult => ({
  action,
  keyId: r.keyId,
  publicKey: r.publicKey,
  pcr,
  pcrValue,
  sealedTo: r.version === 2 ? 'signed-policy' : 'pcr',
  ...(r.previousKeyId ? { previousKeyId: r.previousKeyId } : {}),
});

/** Seals a new key the way the config says: through the release's signed policy when `tpm.pcrSigning` is set, else to the PCR. */
function sealByConfig(tpm: Tpm, store: Store, config: ElastosConfig, pcrValue: string): Promise<SealedKeyRecord> {
  const ps = config.tpm.pcrSigning;
  if (!ps) return sealNewKey(tpm, store, config.tpm.pcr, pcrValue);
  let pem: string;
  try {
    pem = readFileSync(ps.publicKey, 'utf8');
  } catch (cause) {
    throw new ElastosError('E_CONFIG_INVALID', `tpm.pcrSigning.publicKey ${ps.publicKey} cannot be read`, { cause });
  }
  return sealAuthorizedKey(tpm, store, pem, releasePolicy(config));
}

/** `elastos provision`: measure as the boot does, then seal a runtime key to the result. Run with the daemon stopped. */
export async function provisionRuntimeKey(
  config: ElastosConfig,
  store: Store,
  mode: ProvisionMode,
  codeSets?: CodeSet[],
): Promise<ProvisionResult> {
  if (config.tpm.insecureNoTpm)
    throw new ElastosError('E_TPM_INSECURE', 'provisioning needs a TPM (tpm.insecureNoTpm is set)');
  const tpm = await openTpm(config);
  try {
    const existing = await readSealedRecord(store).catch((err: unknown) => {
      if (mode === 'reseal' && hasCode(err, 'E_TPM_SEALED_CORRUPT')) return undefined;
      throw err;
    });
    if (existing && mode === 'new') {
      throw new ElastosError(
        'E_TPM_PROVISIONED',
        `runtime key ${existing.keyId} is already sealed: use --reseal after an authorised update`,
      );
    }
    const measured = new MeasuredBoot(tpm, config.tpm.pcr, eventLogPath(config));
    const pcrValue = await measured.measureRuntime(config, codeSets);
    if (existing && mode === 'if-needed') {
      await unsealRuntimeKey(tpm, existing, config);
      return result('unchanged', existing, config.tpm.pcr, pcrValue);
    }
    const record = await sealByConfig(tpm, store, config, pcrValue);
    return result(existing ? 'resealed' : 'provisioned', record, config.tpm.pcr, pcrValue);
  } finally {
    await tpm.close();
  }
}

/**
 * `provisionRuntimeKey`, and when it sealed a key, an offline audit record `tpm.provision` (the
 * runtime is stopped; its next start checkpoints the record under the new key).
 */
export async function provisionAudited(
  config: ElastosConfig,
  store: Store,
  mode: ProvisionMode,
  actor: string,
): Promise<ProvisionResult> {
  const r = await provisionRuntimeKey(config, store, mode);
  if (r.action !== 'unchanged') {
    const details = {
      action: r.action,
      pcr: r.pcr,
      sealedTo: r.sealedTo,
      ...(r.previousKeyId ? { previousKeyId: r.previousKeyId } : {}),
    };
    await appendOffline(store, { actor, type: 'tpm.provision', resource: `key:${r.keyId}`, details });
  }
  return r;
}
