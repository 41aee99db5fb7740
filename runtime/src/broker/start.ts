/** The daemon's tokens + broker subsystem: one call to start it, one to stop it. */
import type { AdminServer } from '../admin/index.js';
import type { AuditSink } from '../audit/audit-sink.js';
import type { ElastosConfig } from '../config/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import { KeyRing } from '../tokens/key-ring.js';
import { type EpochCounter, TokenService } from '../tokens/token-service.js';
import { Broker } from './broker.js';
import { registerBrokerAdmin } from './broker-admin.js';

export interface BrokerDeps {
  config: ElastosConfig;
  store: Store;
  audit: AuditSink;
  key: RuntimeKey;
  admin: AdminServer;
  log: Logger;
  /** Installed capsules' identities, which tokens are bound to (spec/token.md §2.1). */
  identities?: (capsule: string) => string | undefined;
  /** The TPM NV counter under the epoch (spec/token.md §8.1); absent without a TPM. */
  epochCounter?: EpochCounter;
}

export async function startBroker(d: BrokerDeps): Promise<{ broker: Broker; stop: () => Promise<void> }> {
  const { maxTtlMs, keyGraceMs, clockSkewMs, cacheEntries } = d.config.tokens;
  const ring = new KeyRing(d.key, [], keyGraceMs);
  const { identities, epochCounter } = d;
  const options = { maxTtlMs, skewMs: clockSkewMs, cacheEntries, identities, epochCounter };
  const tokens = await TokenService.open(d.store, d.audit, ring, options);
  const broker = new Broker(tokens, d.audit, d.log, {
    ...d.config.broker,
    presenceWindowMs: d.config.serial.presenceWindowMs,
  });
  registerBrokerAdmin(d.admin, broker);
  d.log.info({ epoch: tokens.epoch, keyId: d.key.keyId }, 'tokens and broker ready');
  const stop = async () => {
    broker.close();
    await tokens.close();
  };
  return { broker, stop };
}
