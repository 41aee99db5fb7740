/**
 * Admin commands of tokens and the broker (runtime/spec/admin.md): `token.list`,
 * `token.revoke`, `epoch.show|bump`, and `requests.list|approve|deny`, which the runtime relays to
 * the shell capsule (the queue of asks is the shell's: policy never lives in the runtime).
 */
import type { AdminServer } from '../admin/index.js';
import { ElastosError } from '../errors/index.js';
import type { Broker } from './broker.js';

function stringArg(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v === '') throw new ElastosError('E_USAGE', `missing argument ${name}`);
  return v;
}

export function registerBrokerAdmin(admin: AdminServer, broker: Broker): void {
  const { tokens, audit } = broker;
  admin.register('token.list', () => tokens.list(), { audit: false });
  admin.register('token.revoke', async (args, peer) => {
    const id = stringArg(args, 'id');
    await tokens.revoke(id, `admin:${peer.uid}`);
    return { revoked: id };
  });
  admin.register('epoch.show', () => ({ epoch: tokens.epoch }), { audit: false });
  admin.register('epoch.bump', async (_args, peer) => ({ epoch: await tokens.bumpEpoch(`admin:${peer.uid}`) }));
  admin.register('requests.list', () => broker.shell.requests(), { audit: false });
  for (const verb of ['approve', 'deny'] as const) {
    admin.register(`requests.${verb}`, async (args, peer) => {
      const ticket = stringArg(args, 'id');
      const by = `admin:${peer.uid}`;
      await audit.append({ actor: by, type: `request.${verb}`, details: { ticket } });
      return broker.shell.adminCall(verb, { ticket, by });
    });
  }
}
