/**
 * The one rule for `capsule install|list|remove|rollback`: when the runtime's admin socket
 * answers, the command goes through it (the runtime holds the store and audits the change);
 * when nothing answers, the CLI opens the state dir named by the config itself (the store's lock
 * guarantees no runtime uses it meanwhile; such changes are not audited).
 */
import { join } from 'node:path';
import { AdminClient, CapsuleManager, hasCode, loadConfig, Store } from '@elastos/runtime';
import { adminSocketPath, callOn, type GlobalOptions } from '../cli/daemon-call.js';

export interface CapsuleAccess {
  /** `online` when the runtime answered, `offline` when the state dir was used directly. */
  via: 'online' | 'offline';
}

export async function withCapsules<T extends object>(
  opts: GlobalOptions,
  online: (call: (cmd: string, args?: Record<string, unknown>, progress?: string) => Promise<unknown>) => Promise<T>,
  offline: (capsules: CapsuleManager, actor: string) => Promise<T>,
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
    const capsules = new CapsuleManager({ stateDir: config.stateDir, trustDir: config.trustDir, store });
    const result: T = await offline(capsules, `admin:${process.getuid?.() ?? -1}`);
    return { ...result, via: 'offline' };
  } finally {
    await store.close();
  }
}
