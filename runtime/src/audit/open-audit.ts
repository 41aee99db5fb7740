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

export interface RuntimeAudit {
  log: AuditLog;
  anchor: AuditAnchor | undefined;
}

/**
 * Opens the log with checkpoints every `audit.checkpointEntries` records or `audit.checkpointMs`,
 * anchored through `anchor` (the boot TPM's NV indices) at most every `audit.anchorMs` and at stop. Without an anchor (dev without a TPM)
 * checkpoints are signed but not anchored, loudly.
 */
export async function openRuntimeAudit(
  store: Store,
  config: ElastosConfig,
  log: Logger,
  key: RuntimeKey,
  anchor: AuditAnchor | undefined,
): Promise<RuntimeAudit> {
  if (!anchor) log.warn({ code: 'E_TPM_INSECURE' }, 'audit: no TPM, checkpoints are signed but not anchored');
  const audit = await AuditLog.open(store, {
    checkpoints: {
      key,
      ...(anchor ? { anchor } : {}),
      entries: config.audit.checkpointEntries,
      ms: config.audit.checkpointMs,
      anchorMs: config.audit.anchorMs,
      onError: (err) => log.error({ code: err.code, err }, 'audit checkpoint failed; the next one retries'),
    },
  });
  return { log: audit, anchor };
}
