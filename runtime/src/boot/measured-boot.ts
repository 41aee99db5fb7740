import type { Tpm } from '@elastos/node-tpm2';
import type { ElastosConfig } from '../config/index.js';
import { ElastosError, type ErrorCode } from '../errors/index.js';
import type { BootAuditTrail } from './boot-audit.js';
import { capsuleDigestHex } from './capsule-digest.js';
import { EventLog } from './event-log.js';
import { type CodeSet, configDigest, installedCodeSets, setDigest, treeDigest } from './measure.js';

/** PCRs resettable at locality 0 in the PC Client profile (16 debug, 23 application). */
export const RESETTABLE_PCRS: readonly number[] = [16, 23];

/**
 * Measured boot (runtime/spec/boot.md): reset the runtime's PCR, then extend, in this order,
 * the runtime's code (its package and dependency closure), the executables it runs, its
 * effective config and its trust store, each with an
 * event in the log. Later, each capsule before it is spawned.
 */
export class MeasuredBoot {
  readonly log: EventLog;

  constructor(
    private readonly tpm: Tpm,
    readonly pcr: number,
    logPath: string,
    private readonly audit?: BootAuditTrail,
  ) {
    if (!RESETTABLE_PCRS.includes(pcr)) {
      throw new ElastosError('E_CONFIG_INVALID', `tpm.pcr: must be a resettable PCR (16 or 23), got ${pcr}`);
    }
    this.log = new EventLog(logPath, pcr);
  }

  /** Resets the PCR and measures the runtime's own state; returns the resulting PCR value (hex). */
  async measureRuntime(config: ElastosConfig, codeSets?: CodeSet[]): Promise<string> {
    const sets = codeSets ?? installedCodeSets(config.confine);
    // Hash everything before the PCR is touched: a file that cannot be read refuses the start.
    const digests = await Promise.all(sets.map((c) => setDigest(c.files())));
    await this.tpm.pcrReset(this.pcr);
    for (const [i, c] of sets.entries()) await this.extend(c.type, c.name, digests[i] as string);
    await this.extend('runtime.config', 'effective config', configDigest(config));
    await this.extend('trust.store', config.trustDir, treeDigest(config.trustDir, ['.']));
    const value = Buffer.from(await this.tpm.pcrRead(this.pcr)).toString('hex');
    await this.audit?.record({
      actor: 'runtime',
      type: 'boot.measured',
      details: { pcr: this.pcr, value, events: this.log.events.length },
    });
    return value;
  }

  /** Extends a capsule's content digest (hex, or its `cap1…` id) into the PCR and the event log; call before spawning it. */
  async measureCapsule(name: string, digestOrId: string): Promise<void> {
    const digestHex = capsuleDigestHex(digestOrId);
    await this.extend('capsule', name, digestHex);
    await this.audit?.record({
      actor: 'runtime',
      type: 'capsule.measured',
      resource: name,
      details: { digest: digestHex },
    });
  }

  /** Records a capsule the runtime refused to spawn (bad signature, hash, untrusted publisher). */
  async refuseCapsule(name: string, code: ErrorCode, reason: string): Promise<void> {
    await this.audit?.record({
      actor: 'runtime',
      type: 'capsule.refused',
      resource: name,
      decision: 'deny',
      code,
      details: { reason },
    });
  }

  /** One extend and its event, with nothing else on the TPM in between (the log order is the extend order). */
  private extend(type: string, name: string, digestHex: string): Promise<void> {
    return this.tpm.exclusive(async (ops) => {
      await ops.pcrExtend(this.pcr, Buffer.from(digestHex, 'hex'));
      this.log.append(type, name, digestHex);
    });
  }
}
