/**
 * The one rule for commands that change the box (`capsule install|list|remove|rollback`,
 * `trust add|remove`): when the runtime's admin socket answers, the command goes through it (the
 * runtime holds the store and audits the change); when nothing answers, the CLI opens the state
 * dir named by the config itself (the store's lock guarantees no runtime uses it meanwhile) and
 * audits the change there as an offline record, which the runtime's next start checkpoints.
 */
import { join } from 'node:path';
import {
  AdminClient,
  type AuditSink,
  CapsuleManager,
  type ElastosConfig,
  hasCode,
  loadConfig,
  Store,
  withOfflineAudit,
} from '@elastos/runtime';
import { adminSocketPath, callOn, type GlobalOptions } from '../cli/daemon-call.js';

export interface CapsuleAccess {
  /** `online` when the runtime answered, `offline` when the state dir was used directly. */
  via: 'online' | 'offline';
}

type Call = (cmd: string, args?: Record<string, unknown>, progress?: string) => Promise<unknown>;

/** What an offline change gets: the config, the stopped runtime's store, its audit chain, the actor. */
export interface Offline {
  config: ElastosConfig;
  store: Store;
  audit: AuditSink;
  actor: string;
}

export async function withRuntimeOrStore<T extends object>(
  opts: GlobalOptions,
  online: (call: Call) => Promise<T>,
  offline: (o: Offline) => Promise<T>,
): Promise<T & CapsuleAccess> {
  let client: AdminClient | undefined;
  try {
    client = await AdminClient.connect(adminSocketPath(opts), 2000);
  } catch (err) {
    if (!hasCode(err, 'E_DAEMON_UNREACHABLE')) throw err;
  }
  if (client) {
    const c = client;
    try {
      const result: T = await online((cmd, args = {}, progress) => callOn(c, opts, cmd, args, progress));
      return { ...result, via: 'online' };
    } finally {
      c.close();
    }
  }
  const config = loadConfig(opts.config ?? process.env.ELASTOS_CONFIG);
  const store = await Store.open(join(config.stateDir, 'store'));
  try {
    const actor = `admin:${process.getuid?.() ?? -1}`;
    const result: T = await withOfflineAudit(store, (audit) => offline({ config, store, audit, actor }));
    return { ...result, via: 'offline' };
  } finally {
    await store.close();
  }
}

export function withCapsules<T extends object>(
  opts: GlobalOptions,
  online: (call: Call) => Promise<T>,
  offline: (capsules: CapsuleManager, actor: string) => Promise<T>,
): Promise<T & CapsuleAccess> {
  return withRuntimeOrStore(opts, online, ({ config, store, audit, actor }) =>
    offline(new CapsuleManager({ stateDir: config.stateDir, trustDir: config.trustDir, store, audit }), actor),
  );
}
