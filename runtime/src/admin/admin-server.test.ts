import assert from 'node:assert/strict';
import { closeSync, openSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import type { AuditEvent, AuditReceipt, AuditSink } from '../audit/audit-sink.js';
import { ElastosError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { AdminClient } from './admin-client.js';
import { type AdminCallContext, AdminServer, type PeerPolicy } from './admin-server.js';
import { loadPeerCred } from './peer-cred.js';

/** Test double of the audit trail (the AuditLog lives in the audit area): records, or fails like a full disk. */
class RecordingAuditSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  failing = false;
  async append(event: AuditEvent): Promise<AuditReceipt> {
    if (this.failing) throw new ElastosError('E_AUDIT_WRITE', 'disk full');
    this.events.push(event);
    return { seq: this.events.length, hash: '00'.repeat(32) };
  }
}

const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const allowAll: PeerPolicy = () => {};

describe('admin server: peer credentials from the kernel (SO_PEERCRED)', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let server: AdminServer | undefined;
  let sock: string;
  const audit = new RecordingAuditSink();

  beforeEach(() => {
    dir = makeTempDir();
    sock = join(dir.path, 'run', 'admin.sock');
    audit.events.length = 0;
    audit.failing = false;
  });
  afterEach(async () => {
    await server?.close();
    dir.remove();
  });

  async function call(cmd: string): Promise<unknown> {
    const client = await AdminClient.connect(sock);
    try {
      return await client.call(cmd);
    } finally {
      client.close();
    }
  }

  it('hands handlers the uid, gid and pid of the connecting process; the socket is 0660', async () => {
    server = new AdminServer(sock, log, allowAll, { audit });
    server.register('whoami', (_args, peer) => peer, { audit: false });
    await server.listen();
    assert.equal(statSync(sock).mode & 0o777, 0o660);
    const peer = (await call('whoami')) as { uid: number; gid: number; pid: number };
    assert.deepEqual(peer, { uid: process.geteuid?.(), gid: process.getegid?.(), pid: process.pid });
    assert.equal(audit.events.length, 0);
  });

  it('refuses a peer the policy denies with E_ADMIN_DENIED and audits admin.denied with its uid', async () => {
    const deny: PeerPolicy = (peer) => {
      throw new ElastosError('E_ADMIN_DENIED', `uid ${peer.uid} is not in the admin group`);
    };
    server = new AdminServer(sock, log, deny, { audit });
    server.register('version', () => ({ version: 'x' }));
    await server.listen();
    await assert.rejects(call('version'), { code: 'E_ADMIN_DENIED', message: /^uid \d+ is not in the admin group$/ });
    assert.equal(audit.events.length, 1);
    assert.deepEqual(
      { ...audit.events[0], details: undefined },
      {
        actor: `admin:${process.geteuid?.()}`,
        type: 'admin.denied',
        decision: 'deny',
        code: 'E_ADMIN_DENIED',
        details: undefined,
      },
    );
    assert.equal(audit.events[0]?.details?.pid, process.pid);
  });

  it('audits admin.command with actor admin:<uid> before running it; unauditable commands do not run', async () => {
    let runs = 0;
    server = new AdminServer(sock, log, allowAll);
    server.register('epoch.bump', () => ({ epoch: ++runs }));
    await server.listen();
    assert.deepEqual(await call('epoch.bump'), { epoch: 1 }); // no sink yet: logged only
    server.useAudit(audit);
    assert.deepEqual(await call('epoch.bump'), { epoch: 2 });
    assert.deepEqual(audit.events, [
      {
        actor: `admin:${process.geteuid?.()}`,
        type: 'admin.command',
        action: 'epoch.bump',
        decision: 'allow',
        details: { pid: process.pid, gid: process.getegid?.() },
      },
    ]);
    audit.failing = true;
    await assert.rejects(call('epoch.bump'), { code: 'E_AUDIT_WRITE' });
    assert.equal(runs, 2);
  });

  it('fails closed: the addon throws for a descriptor that is not a connected unix socket', () => {
    const peerCred = loadPeerCred();
    const fd = openSync('/dev/null', 'r');
    try {
      assert.throws(() => peerCred(fd), { errno: constants.errno.ENOTSOCK });
    } finally {
      closeSync(fd);
    }
    assert.throws(() => peerCred(-1), { errno: constants.errno.EBADF });
    assert.throws(() => (peerCred as unknown as (x: string) => unknown)('3'), TypeError);
  });

  it('answers an unknown command with E_USAGE and keeps serving', async () => {
    server = new AdminServer(sock, log, allowAll, { audit });
    server.register('version', () => ({ version: 'x' }), { audit: false });
    await server.listen();
    await assert.rejects(call('nope'), { code: 'E_USAGE' });
    assert.deepEqual(await call('version'), { version: 'x' });
  });

  it('sends progress lines before the reply (first and last always, at most one per 100 ms between)', async () => {
    server = new AdminServer(sock, log, allowAll);
    server.register(
      'long',
      (_args, _peer, ctx) => {
        for (let done = 0; done <= 1000; done++) ctx.progress(done, 1000); // a burst, as a verify's walk
        return 'done';
      },
      { audit: false },
    );
    await server.listen();
    const client = await AdminClient.connect(sock);
    try {
      const seen: Array<[number, number]> = [];
      const result = await client.call('long', {}, { onProgress: (done, total) => seen.push([done, total]) });
      assert.equal(result, 'done');
      assert.deepEqual(seen[0], [0, 1000]);
      assert.deepEqual(seen.at(-1), [1000, 1000]);
      assert.ok(seen.length < 20, `throttled: ${seen.length} lines for 1001 reports`);
    } finally {
      client.close();
    }
  });

  it('times a call out with E_TIMEOUT when nothing comes back, but not while progress lines come', async () => {
    server = new AdminServer(sock, log, allowAll);
    const slow = (withProgress: boolean) => async (_args: unknown, _peer: unknown, ctx: AdminCallContext) => {
      for (let i = 0; i < 15; i++) {
        if (withProgress) ctx.progress(i, 15);
        await new Promise((r) => setTimeout(r, 110));
      }
      return 'finished';
    };
    server.register('working', slow(true), { audit: false });
    server.register('silent', slow(false), { audit: false });
    await server.listen();
    const client = await AdminClient.connect(sock);
    try {
      assert.equal(await client.call('working', {}, { timeoutMs: 1000 }), 'finished'); // ~1.7 s in all
      await assert.rejects(client.call('silent', {}, { timeoutMs: 1000 }), {
        code: 'E_TIMEOUT',
        message: 'the runtime did not answer silent within 1 s',
      });
    } finally {
      client.close();
    }
  });
});
