/**
 * The daemon's audit trail, from the config: checkpoints signed by the runtime key and
 * anchored in the TPM's NV indices (runtime/spec/audit.md §6-§7).
 */
import type { ElastosConfig } from '../config/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import type { AuditAnchor } from './anchor.js';
import { AuditLog } from './audit-log.js';
import { ToolsAnchor } from './tools-anchor.js';

export interface RuntimeAudit {
  log: AuditLog;
  anchor: AuditAnchor | undefined;
}

/**
 * Opens the log. With a key: checkpoints, anchored through `anchor`, else through tpm2-tools at
 * the configured TCTI, unless the dev profile runs without a TPM. Without a key (the keys
 * subsystem not yet started): a bare chain, loudly.
 */
export async function openRuntimeAudit(
  store: Store,
  config: ElastosConfig,
  log: Logger,
  key: RuntimeKey | undefined,
  anchor?: AuditAnchor,
): Promise<RuntimeAudit> {
  if (!key) {
    log.warn('audit: no runtime key, so no signed checkpoints (the chain alone guards the trail)');
    return { log: await AuditLog.open(store), anchor: undefined };
  }
  const { nvExtendIndex: extendIndex, nvCounterIndex: counterIndex } = config.audit;
  let used = anchor;
  if (!used && !(config.profile === 'dev' && config.tpm.insecureNoTpm))
    used = await ToolsAnchor.open(config.tpm.tcti, { extendIndex, counterIndex });
  if (!used) log.warn('audit: dev profile without a TPM, checkpoints are signed but not anchored');
  const audit = await AuditLog.open(store, {
    checkpoints: {
      key,
      ...(used ? { anchor: used } : {}),
      entries: config.audit.checkpointEntries,
      ms: config.audit.checkpointMs,
      onError: (err) => log.error({ code: err.code, err }, 'audit checkpoint failed; the next one retries'),
    },
  });
  return { log: audit, anchor: used };
}
