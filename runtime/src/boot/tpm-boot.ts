import { join } from 'node:path';
import { Tpm, type TpmError } from '@elastos/node-tpm2';
import type { AttestationFiles } from '@elastos/verifier/attest/attestation';
import { makeAttestation } from '../attest/attestation.js';
import type { AuditSink } from '../audit/audit-sink.js';
import type { ElastosConfig } from '../config/index.js';
import { asElastosError, ElastosError, type ErrorCode } from '../errors/index.js';
import { loadOrCreateDevKey } from '../keys/dev-key.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import { readSealedRecord } from '../keys/sealed-key.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import { BootAuditTrail } from './boot-audit.js';
import type { CodeSet } from './measure.js';
import { MeasuredBoot } from './measured-boot.js';
import { TpmNvAnchor } from './nv-anchor.js';
import { TpmNvCounter } from './nv-counter.js';
import { unsealRuntimeKey } from './unseal.js';

export interface BootOptions {
  config: ElastosConfig;
  store: Store;
  log: Logger;
  /** Boot events go here; without one they wait for `BootedRuntime.attachAudit` (the trail needs the key first). */
  audit?: AuditSink;
  /** elastosd's `--insecure-no-tpm` (config `tpm.insecureNoTpm` says the same). */
  insecureNoTpm?: boolean;
  /** Tests only: measure these trees instead of the installed runtime. */
  codeSets?: CodeSet[];
}

/** Where the boot event log lives: per boot, beside the pid file. */
export const eventLogPath = (config: ElastosConfig) => join(config.runDir, 'boot-eventlog.json');

const INSECURE_BANNER =
  '!!! INSECURE: running WITHOUT A TPM (--insecure-no-tpm). The runtime key is kept in clear in the store, nothing is measured, nothing can be attested. Never do this on a box. !!!';

/** What the runtime holds after boot: its key, and the TPM it keeps open until stop. */
export class BootedRuntime {
  constructor(
    readonly key: RuntimeKey,
    readonly tpm: Tpm | undefined,
    readonly measured: MeasuredBoot | undefined,
    readonly audit: BootAuditTrail,
  ) {}

  /** Hands boot's waiting events, then every later capsule event, to the audit trail. */
  attachAudit(sink: AuditSink): Promise<void> {
    return this.audit.attach(sink);
  }

  /** The NV extend index + counter for audit checkpoints, on this TPM connection. */
  nvAnchor(indices: { extendIndex: number; counterIndex: number }): Promise<TpmNvAnchor> {
    if (!this.tpm) return Promise.reject(new ElastosError('E_TPM_INSECURE', 'no TPM: nothing to anchor in'));
    return TpmNvAnchor.open(this.tpm, indices);
  }

  /** The token epoch's floor (runtime/spec/token.md §8.1), or none without a TPM (dev profile). */
  async nvCounter(index: number): Promise<TpmNvCounter | undefined> {
    return this.tpm ? TpmNvCounter.open(this.tpm, index) : undefined;
  }

  get insecure(): boolean {
    return this.tpm === undefined;
  }

  /** Measure a capsule before spawning it (runtime/spec/boot.md §Capsules). */
  async measureCapsule(name: string, digestOrId: string): Promise<void> {
    if (this.measured) return this.measured.measureCapsule(name, digestOrId);
    await this.audit.record({ actor: 'runtime', type: 'capsule.unmeasured', resource: name, code: 'E_TPM_INSECURE' });
  }

  async refuseCapsule(name: string, code: ErrorCode, reason: string): Promise<void> {
    if (this.measured) return this.measured.refuseCapsule(name, code, reason);
    await this.audit.record({ actor: 'runtime', type: 'capsule.refused', resource: name, decision: 'deny', code });
  }

  async attest(nonce: Uint8Array): Promise<AttestationFiles> {
    if (!this.tpm || !this.measured) throw new ElastosError('E_TPM_INSECURE', 'no TPM: nothing to attest');
    return makeAttestation(this.tpm, this.measured.pcr, nonce, this.measured.log.toJSON());
  }

  async close(): Promise<void> {
    await this.tpm?.close();
  }
}

/** Opens the TPM at the configured TCTI; one line naming the TCTI when nobody answers. */
export async function openTpm(config: ElastosConfig): Promise<Tpm> {
  try {
    return await Tpm.open(config.tpm.tcti);
  } catch (err) {
    const e = err as TpmError;
    if (e.code !== 'E_TPM_UNAVAILABLE' || config.profile === 'production') throw err;
    throw new ElastosError('E_TPM_UNAVAILABLE', `${e.message} (dev without a TPM needs --insecure-no-tpm)`, {
      cause: err,
    });
  }
}

async function bootInsecure(opts: BootOptions): Promise<BootedRuntime> {
  if (opts.config.profile === 'production') {
    throw new ElastosError('E_TPM_INSECURE', 'the production profile never runs without a TPM');
  }
  opts.log.warn({ code: 'E_TPM_INSECURE' }, INSECURE_BANNER);
  const trail = new BootAuditTrail(opts.audit);
  await trail.record({ actor: 'runtime', type: 'boot.insecure-no-tpm', decision: 'allow-log', code: 'E_TPM_INSECURE' });
  return new BootedRuntime(await loadOrCreateDevKey(opts.store), undefined, undefined, trail);
}

/**
 * Boot (runtime/spec/boot.md): open the TPM, measure the runtime's code, config and trust
 * store into its PCR, unseal the runtime key. Any failure refuses the start with one line.
 */
export async function bootRuntime(opts: BootOptions): Promise<BootedRuntime> {
  const { config, store } = opts;
  if (opts.insecureNoTpm || config.tpm.insecureNoTpm) return bootInsecure(opts);
  const trail = new BootAuditTrail(opts.audit);
  let tpm: Tpm | undefined;
  try {
    tpm = await openTpm(config);
    const record = await readSealedRecord(store);
    if (!record) throw new ElastosError('E_TPM_NOT_PROVISIONED', 'no sealed runtime key: run `elastos provision`');
    const measured = new MeasuredBoot(tpm, config.tpm.pcr, eventLogPath(config), trail);
    const value = await measured.measureRuntime(config, opts.codeSets);
    // The measurement lines on the console: what a verifier compares with the release manifest.
    const events = measured.log.events.map((e) => `${e.type} ${e.digest}`);
    opts.log.info({ pcr: config.tpm.pcr, value, events }, 'runtime measured');
    const key = await unsealRuntimeKey(tpm, record, config);
    await trail.record({ actor: 'runtime', type: 'boot.unsealed', details: { keyId: key.keyId } });
    const sealedTo = record.version === 2 ? 'signed policy' : `PCR ${config.tpm.pcr}`;
    opts.log.info({ keyId: key.keyId, sealedTo }, 'runtime key unsealed');
    return new BootedRuntime(key, tpm, measured, trail);
  } catch (err) {
    await tpm?.close();
    const e = asElastosError(err);
    await opts.audit
      ?.append({ actor: 'runtime', type: 'boot.refused', decision: 'deny', code: e.code })
      .catch(() => {});
    throw e;
  }
}
