import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir, pollFor } from '@elastos/testkit';
import { AdminClient } from '../admin/admin-client.js';
import { AdminServer } from '../admin/admin-server.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import { registerAuditAdmin } from './admin.js';
import { AuditLog } from './audit-log.js';

const log = createLogger({ name: 'follow-test', level: 'silent', pretty: false });

describe('audit.tail follow: a subscription on the admin socket (runtime/spec/admin.md §Subscriptions)', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: Store;
  let trail: AuditLog;
  let server: AdminServer;
  beforeEach(async () => {
    dir = makeTempDir();
    store = await Store.open(join(dir.path, 'db'));
    trail = await AuditLog.open(store);
    server = new AdminServer(join(dir.path, 'admin.sock'), log, () => {});
    registerAuditAdmin(server, { log: trail });
    await server.listen();
  });
  afterEach(async () => {
    await server.close();
    await trail.close();
    await store.close();
    dir.remove();
  });

  const append = (n: number, from = 0) =>
    Promise.all(Array.from({ length: n }, (_, i) => trail.append({ actor: 'runtime', type: `t.${from + i}` })));

  it('sends the backlog after `after`, then each record as it is committed, once and in order, until closed', async () => {
    await append(700); // more than one backlog page
    const client = await AdminClient.connect(join(dir.path, 'admin.sock'));
    const seen: number[] = [];
    const call = client.call(
      'audit.tail',
      { after: 9, follow: true },
      { onEvent: (r) => seen.push((r as { seq: number }).seq) },
    );
    call.catch(() => undefined);
    // Appended while the backlog is being read: held back, then sent after it.
    await append(50, 700);
    await pollFor('the backlog and the new records', async () => (seen.length >= 740 ? true : undefined), 10_000, 20);
    await append(3, 750);
    await pollFor('the live records', async () => (seen.length >= 743 ? true : undefined), 10_000, 20);
    assert.deepEqual(
      seen,
      Array.from({ length: 743 }, (_, i) => i + 10),
    );
    client.close();
    await assert.rejects(call, (e: { code?: string }) => e.code === 'E_DAEMON_UNREACHABLE');
  });

  it('follows from the next record without `after`, filtered by capsule', async () => {
    await append(5);
    const client = await AdminClient.connect(join(dir.path, 'admin.sock'));
    const seen: string[] = [];
    void client
      .call(
        'audit.tail',
        { follow: true, capsule: 'notes' },
        { onEvent: (r) => seen.push((r as { type: string }).type) },
      )
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    await trail.append({ actor: 'capsule:notes', type: 'mine' });
    await trail.append({ actor: 'capsule:agent', type: 'theirs' });
    await trail.append({ actor: 'runtime', type: 'about', resource: 'capsule:notes' });
    await pollFor('two records', async () => (seen.length >= 2 ? true : undefined), 5000, 20);
    assert.deepEqual(seen, ['mine', 'about']);
    client.close();
  });
});
