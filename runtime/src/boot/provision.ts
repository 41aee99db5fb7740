import { appendOffline } from '../audit/offline.js';
import type { ElastosConfig } from '../config/index.js';
import { ElastosError, hasCode } from '../errors/index.js';
import { readSealedRecord, type SealedKeyRecord, sealNewKey, unsealKey } from '../keys/sealed-key.js';
import type { Store } from '../store/index.js';
import type { CodeSet } from './measure.js';
import { MeasuredBoot } from './measured-boot.js';
import { eventLogPath, openTpm } from './tpm-boot.js';

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
  pcr: number;
  pcrValue: string;
  previousKeyId?: string;
}

const result = (action: ProvisionResult['action'], r: SealedKeyRecord): ProvisionResult => ({
  action,
  keyId: r.keyId,
  publicKey: r.publicKey,
  pcr: r.pcr,
  pcrValue: r.pcrValue,
  ...(r.previousKeyId ? { previousKeyId: r.previousKeyId } : {}),
});

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
      await unsealKey(tpm, existing, config.tpm.pcr);
      return result('unchanged', existing);
    }
    const record = await sealNewKey(tpm, store, config.tpm.pcr, pcrValue);
    return result(existing ? 'resealed' : 'provisioned', record);
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
    const details = { action: r.action, pcr: r.pcr, ...(r.previousKeyId ? { previousKeyId: r.previousKeyId } : {}) };
    await appendOffline(store, { actor, type: 'tpm.provision', resource: `key:${r.keyId}`, details });
  }
  return r;
}
