import type { Tpm } from '@elastos/node-tpm2';
import type { ElastosConfig } from '../config/index.js';
import { asElastosError } from '../errors/index.js';
import { readSealedRecord } from '../keys/sealed-key.js';
import type { Store } from '../store/index.js';

export interface TpmStatus {
  tcti: string;
  reachable: boolean;
  error?: string;
  manufacturer?: string;
  inLockout?: boolean;
  lockoutCounter?: number;
  maxAuthFail?: number;
  pcr: number;
  pcrValue?: string;
  provisioned: boolean;
  keyId?: string;
  /**
   * The PCR value the key is sealed to (equal to pcrValue when the running state is the provisioned
   * one), or `signed-policy:<signer fingerprint>` for a key sealed to the vendor's signed policies.
   */
  sealedTo?: string;
}

/** `elastos tpm status`: reachability, manufacturer, lockout, the runtime's PCR, provisioning. */
export async function tpmStatus(config: ElastosConfig, store: Store, tpm: Tpm | undefined): Promise<TpmStatus> {
  const record = await readSealedRecord(store).catch(() => undefined);
  const status: TpmStatus = {
    tcti: config.tpm.tcti,
    reachable: false,
    pcr: config.tpm.pcr,
    provisioned: record !== undefined,
    ...(record
      ? { keyId: record.keyId, sealedTo: record.version === 2 ? `signed-policy:${record.signer}` : record.pcrValue }
      : {}),
  };
  if (!tpm) return { ...status, error: 'E_TPM_INSECURE: running without a TPM' };
  try {
    const p = await tpm.properties();
    const value = Buffer.from(await tpm.pcrRead(config.tpm.pcr)).toString('hex');
    const { manufacturer, inLockout, lockoutCounter, maxAuthFail } = p;
    return { ...status, reachable: true, manufacturer, inLockout, lockoutCounter, maxAuthFail, pcrValue: value };
  } catch (err) {
    const e = asElastosError(err);
    return { ...status, error: `${e.code}: ${e.message}` };
  }
}
