import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENESIS_HASH } from '@elastos/protocol/audit/record';
import {
  type AdminAccounts,
  createAdminAccounts,
  makeTempDir,
  noTpmDevConfig,
  runAs,
  type SystemAccount,
} from '@elastos/testkit';
import { walkChain } from '../audit/index.js';
import { loadConfig } from '../config/index.js';
import { Runtime } from '../daemon/runtime.js';
import { createLogger } from '../log/index.js';

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), 'admin-client.js');
// One admin call as another uid; prints {"ok":true,"result":...} or {"ok":false,"code","message"}.
const CALL = `
import { AdminClient } from ${JSON.stringify(CLIENT)};
const [sock, cmd] = process.argv.slice(1);
try {
  const c = await AdminClient.connect(sock);
  try { console.log(JSON.stringify({ ok: true, result: await c.call(cmd) })); } finally { c.close(); }
} catch (e) { console.log(JSON.stringify({ ok: false, code: e.code, message: e.message })); }`;

describe('the admin socket against other local users (real uids, SO_PEERCRED)', function () {
  this.timeout(30_000);
  let accounts: AdminAccounts | undefined;
  let group: SystemAccount;
  let member: SystemAccount;
  let outsider: SystemAccount;
  let dir: ReturnType<typeof makeTempDir>;
  let runtime: Runtime;
  let sock: string;

  before(async function () {
    accounts = createAdminAccounts(this, { outsider: true });
    ({ group, admin: member } = accounts);
    outsider = accounts.outsider as SystemAccount;
    dir = makeTempDir();
    chmodSync(dir.path, 0o755);
    const configPath = join(dir.path, 'config.json');
    const config = noTpmDevConfig({ logLevel: 'fatal', admin: { group: group.name } });
    writeFileSync(configPath, JSON.stringify(config));
    runtime = new Runtime(loadConfig(configPath), createLogger({ name: 't', level: 'silent', pretty: false }));
    await runtime.start();
    runtime.admin?.register('test.whoami', (_args, peer) => peer, { audit: false });
    runtime.admin?.register('test.touch', () => ({ touched: true }));
    sock = join(dir.path, 'run', 'admin.sock');
  });
  after(async () => {
    await runtime?.stop();
    dir?.remove();
    accounts?.remove();
  });

  const call = (user: SystemAccount, cmd: string) =>
    runAs(user.name, process.execPath, ['--input-type=module', '-e', CALL, sock, cmd]).then((r) =>
      JSON.parse(r.stdout || '{}'),
    );

  it('keeps the socket 0660 in a 0750 run directory, both owned by root and the admin group', () => {
    for (const [path, mode] of [
      [sock, 0o660],
      [dirname(sock), 0o750],
    ] as const) {
      const st = statSync(path);
      assert.equal(st.mode & 0o777, mode, path);
      assert.equal(st.uid, 0, path);
      assert.equal(st.gid, group.id, path);
    }
  });

  it('serves a member of the admin group (a supplementary group) and knows its uid from the kernel', async () => {
    const reply = await call(member, 'test.whoami');
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.equal(reply.result.uid, member.id);
    assert.notEqual(reply.result.gid, group.id); // admitted by its supplementary groups (/proc/<pid>/status)
  });

  it("audits what a member did in the runtime's AuditLog, with its uid, before doing it", async () => {
    assert.equal((await call(member, 'test.touch')).ok, true);
    const records = [];
    if (!runtime.store) throw new Error('runtime has no store');
    for await (const r of walkChain(runtime.store, { seq: 0, prev: GENESIS_HASH })) records.push(r.record);
    const mine = records.filter((r) => r.type === 'admin.command' && r.action === 'test.touch');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]?.actor, `admin:${member.id}`);
    assert.equal(mine[0]?.decision, 'allow');
    assert.equal(records.filter((r) => r.action === 'test.whoami').length, 0, 'reads registered audit:false are not');
  });

  it('refuses an outsider with E_ADMIN_DENIED at the file mode', async () => {
    const reply = await call(outsider, 'status');
    assert.deepEqual([reply.ok, reply.code], [false, 'E_ADMIN_DENIED']);
    assert.match(reply.message, /permission denied/);
  });

  it('refuses an outsider by its credentials even when the socket is world-writable', async () => {
    chmodSync(dirname(sock), 0o755);
    chmodSync(sock, 0o666);
    try {
      const reply = await call(outsider, 'status');
      assert.deepEqual(reply, {
        ok: false,
        code: 'E_ADMIN_DENIED',
        message: `uid ${outsider.id} is not in the admin group ${group.name}`,
      });
      assert.equal((await call(member, 'status')).ok, true);
      const denied = [];
      if (!runtime.store) throw new Error('runtime has no store');
      for await (const r of walkChain(runtime.store, { seq: 0, prev: GENESIS_HASH })) {
        if (r.record.type === 'admin.denied') denied.push(r.record);
      }
      assert.deepEqual(
        denied.map((r) => [r.actor, r.decision, r.code]),
        [[`admin:${outsider.id}`, 'deny', 'E_ADMIN_DENIED']],
      );
    } finally {
      chmodSync(dirname(sock), 0o750);
      chmodSync(sock, 0o660);
    }
  });
});
