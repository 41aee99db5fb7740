import assert from 'node:assert/strict';
import { makeTempDir, pollFor } from '@elastos/testkit';
import { hasCode } from '../errors/index.js';
import { spawnCapsule, startBroker, stopBroker, type TestCapsule } from './fixtures/harness.js';

const HOUR = 3600_000;
const SCRIPT = {
  'photo-editor': { decision: 'allow', ttlMs: HOUR, maxUses: 3, reason: 'rule 1' },
  notes: { decision: 'ask' },
  agent: { decision: 'allow-log', ttlMs: HOUR, maxUses: 0 },
  once: { decision: 'allow', ttlMs: HOUR, maxUses: 1 },
};
const READ = { audience: 'storage', resource: 'storage://photos/', action: 'read' };
const invokeFields = (token: string, resource = 'storage://photos/vacation.jpg') => ({
  provider: 'storage',
  method: 'read',
  resource,
  args: { size: 1 },
  token,
});
const codeIs = (code: string) => (e: unknown) => hasCode(e, code as never);

describe('broker: capsules, the shell and providers over fd 3', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof makeTempDir>;
  let t: Awaited<ReturnType<typeof startBroker>>;
  let capsules: TestCapsule[];
  const spawn = (id: string, name: string, args: string[] = []) => {
    const c = spawnCapsule(t.broker, id, name, args);
    capsules.push(c);
    return c;
  };
  const types = () => t.events.map((e) => `${e.type}${e.code ? `:${e.code}` : ''}`);

  beforeEach(async () => {
    dir = makeTempDir();
    capsules = [];
    t = await startBroker(dir.path, { invokeTimeoutMs: 500 });
    spawn('shell', 'scripted-shell', [JSON.stringify(SCRIPT)]);
    spawn('storage', 'provider');
  });
  afterEach(async () => {
    await stopBroker(t, capsules);
    dir.remove();
  });

  it('grants through the shell, then relays a checked, audited invoke with the holder from the channel', async () => {
    const app = spawn('photo-editor', 'capsule');
    const grant = (await app.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as { token: string };
    assert.deepEqual(types(), ['capability.request', 'token.issue']);
    assert.equal(t.events[1]?.decision, 'allow');
    const reply = (await app.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(grant.token) })) as Record<
      string,
      unknown
    >;
    assert.deepEqual(reply, {
      caller: 'photo-editor',
      method: 'read',
      resource: 'storage://photos/vacation.jpg',
      args: { size: 1 },
    });
    assert.equal(t.events.at(-1)?.type, 'invoke');
    assert.equal(t.events.at(-1)?.tokenId, t.tokens.list()[0]?.id);
    assert.equal(t.tokens.list()[0]?.uses, 1);
  });

  it('refuses a stolen token (wrong holder), a wrong provider and traversal, each audited with its code', async () => {
    const app = spawn('photo-editor', 'capsule');
    const thief = spawn('thief', 'capsule');
    const { token } = (await app.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as {
      token: string;
    };
    await assert.rejects(
      thief.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(token) }),
      codeIs('E_TOKEN_HOLDER'),
    );
    await assert.rejects(
      app.drive({ cmd: 'request', op: 'invoke', fields: { ...invokeFields(token), provider: 'shell' } }),
      codeIs('E_TOKEN_AUDIENCE'),
    );
    await assert.rejects(
      app.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(token, 'storage://photos/%2E%2E/etc/passwd') }),
      codeIs('E_RESOURCE_INVALID'),
    );
    await assert.rejects(
      app.drive({ cmd: 'request', op: 'invoke', fields: { ...invokeFields(token), provider: 'nobody' } }),
      codeIs('E_BROKER_NO_PROVIDER'),
    );
    assert.deepEqual(types().slice(2), [
      'invoke:E_TOKEN_HOLDER',
      'invoke:E_TOKEN_AUDIENCE',
      'invoke:E_RESOURCE_INVALID',
      'invoke:E_BROKER_NO_PROVIDER',
    ]);
    // Each refused invoke names the token it carried: its id and a digest of its text.
    const issued = t.tokens.list()[0]?.id;
    for (const e of t.events.slice(2)) {
      assert.equal(e.tokenId, issued, `${e.type}:${e.code}`);
      assert.match(String((e.details as { token?: string } | undefined)?.token), /^[0-9a-f]{32}$/);
    }
    await assert.rejects(
      app.drive({ cmd: 'request', op: 'invoke', fields: invokeFields('garbage') }),
      codeIs('E_TOKEN_MALFORMED'),
    );
    assert.equal(t.events.at(-1)?.tokenId, undefined, 'an undecodable token has no id');
    assert.match(String((t.events.at(-1)?.details as { token?: string } | undefined)?.token), /^[0-9a-f]{32}$/);
  });

  it('a capsule hammering a denied invoke costs one record per window beyond its audit budget', async () => {
    await stopBroker(t, capsules);
    capsules = [];
    t = await startBroker(`${dir.path}/budget`, { deniedRecordsPerWindow: 5, deniedWindowMs: 5000 });
    spawn('shell', 'scripted-shell', [JSON.stringify(SCRIPT)]);
    spawn('storage', 'provider');
    const app = spawn('photo-editor', 'capsule');
    const thief = spawn('thief', 'capsule');
    const { token } = (await app.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as {
      token: string;
    };
    for (let i = 0; i < 40; i++)
      await assert.rejects(
        thief.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(token) }),
        codeIs('E_TOKEN_HOLDER'),
        'every refusal still answers its code',
      );
    const thiefs = () => t.events.filter((e) => e.actor === 'capsule:thief');
    await pollFor('the refusal summary', async () => (thiefs().length >= 6 ? true : undefined), 10_000, 50);
    assert.deepEqual(
      thiefs().map((e) => `${e.type}:${e.code}`),
      [...Array(5).fill('invoke:E_TOKEN_HOLDER'), 'denied.summary:E_TOKEN_HOLDER'],
    );
    assert.deepEqual(thiefs()[5]?.details, {
      suppressed: 35,
      byTypeAndCode: { 'invoke:E_TOKEN_HOLDER': 35 },
      windowMs: 5000,
    });
  });

  it('never lets concurrent invokes exceed max uses', async () => {
    const app = spawn('photo-editor', 'capsule');
    const { token } = (await app.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as {
      token: string;
    };
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => app.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(token) })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal(types().filter((x) => x === 'invoke:E_TOKEN_EXHAUSTED').length, 9);
  });

  it('delegates a narrower token to another capsule over IPC, and refuses a widening one', async () => {
    const app = spawn('photo-editor', 'capsule');
    const notes = spawn('notes', 'capsule');
    const { token } = (await app.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as {
      token: string;
    };
    const fields = { token, holder: 'notes', resource: 'storage://photos/vacation.jpg', maxUses: 1 };
    const child = (await app.drive({ cmd: 'request', op: 'delegate', fields })) as { token: string; maxUses: number };
    assert.equal(child.maxUses, 1);
    await notes.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(child.token) });
    await assert.rejects(
      notes.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(child.token) }),
      codeIs('E_TOKEN_EXHAUSTED'),
    );
    await assert.rejects(
      app.drive({ cmd: 'request', op: 'delegate', fields: { ...fields, resource: 'storage://' } }),
      codeIs('E_TOKEN_DELEGATION'),
    );
    await assert.rejects(notes.drive({ cmd: 'request', op: 'delegate', fields }), codeIs('E_TOKEN_HOLDER'));
    assert.deepEqual(types().slice(-2), ['delegate:E_TOKEN_DELEGATION', 'delegate:E_TOKEN_HOLDER']);
  });

  it('spends a maxUses:1 parent once when delegates and an invoke arrive in ONE write (issue 19 item 2)', async () => {
    const once = spawn('once', 'capsule');
    const grantOnce = async () =>
      ((await once.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as { token: string }).token;
    const delegate = (token: string, holder: string) => ({ op: 'delegate', fields: { token, holder, maxUses: 1 } });
    const burst = async (requests: unknown[]) =>
      (await once.drive({ cmd: 'burst', requests })) as Array<{ ok: boolean; code?: string }>;
    for (const make of [
      (tk: string) => [delegate(tk, 'notes'), delegate(tk, 'agent'), delegate(tk, 'photo-editor')],
      (tk: string) => [delegate(tk, 'notes'), { op: 'invoke', fields: invokeFields(tk) }, delegate(tk, 'agent')],
      (tk: string) => [{ op: 'invoke', fields: invokeFields(tk) }, delegate(tk, 'notes')],
    ]) {
      const results = await burst(make(await grantOnce()));
      assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
      for (const r of results) if (!r.ok) assert.equal(r.code, 'E_TOKEN_EXHAUSTED');
    }
  });

  it('gives a delegated child every caveat of its chain: allow-and-log stays logged (issue 19 item 8)', async () => {
    const agent = spawn('agent', 'capsule');
    const notes = spawn('notes', 'capsule');
    const { token } = (await agent.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as {
      token: string;
    };
    const fields = { token, holder: 'notes', resource: 'storage://photos/vacation.jpg', maxUses: 2 };
    const child = (await agent.drive({ cmd: 'request', op: 'delegate', fields })) as { token: string };
    const grandchild = (await notes.drive({
      cmd: 'request',
      op: 'delegate',
      fields: { token: child.token, holder: 'agent', maxUses: 1 },
    })) as { token: string };
    await notes.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(child.token) });
    assert.deepEqual(t.events.at(-1)?.details, { args: '{"size":1}' });
    await agent.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(grandchild.token) });
    assert.equal(t.events.at(-1)?.type, 'invoke');
    assert.deepEqual(t.events.at(-1)?.details, { args: '{"size":1}' });
  });

  it('denies what the shell denies, and fails closed without a shell', async () => {
    const stranger = spawn('stranger', 'capsule');
    await assert.rejects(
      stranger.drive({ cmd: 'request', op: 'request-capability', fields: READ }),
      codeIs('E_BROKER_DENIED'),
    );
    assert.deepEqual(types(), ['capability.request', 'capability.decision:E_BROKER_DENIED']);
    t.broker.channel('shell')?.stop(undefined, 'test');
    const app = spawn('photo-editor', 'capsule');
    await assert.rejects(
      app.drive({ cmd: 'request', op: 'request-capability', fields: READ }),
      codeIs('E_BROKER_DENIED'),
    );
  });

  it('queues an "ask" for the admin: approve issues, deny refuses, both audited', async () => {
    const notes = spawn('notes', 'capsule');
    const pending = notes.drive({ cmd: 'request', op: 'request-capability', fields: READ });
    let asks: Array<{ ticket: string }> = [];
    while (asks.length === 0) asks = (await t.broker.shell.adminCall('requests', {})) as typeof asks;
    await t.broker.shell.adminCall('approve', { ticket: asks[0]?.ticket, by: 'admin:0' });
    const grant = (await pending) as { maxUses: number };
    assert.equal(grant.maxUses, 1);
    const refused = notes.drive({ cmd: 'request', op: 'request-capability', fields: READ });
    asks = [];
    while (asks.length === 0) asks = (await t.broker.shell.adminCall('requests', {})) as typeof asks;
    await t.broker.shell.adminCall('deny', { ticket: asks[0]?.ticket, by: 'admin:0' });
    await assert.rejects(refused, codeIs('E_BROKER_DENIED'));
    assert.deepEqual(
      t.events.map((e) => e.decision ?? '-'),
      ['-', 'ask', 'allow', '-', 'ask', 'deny'],
    );
    await assert.rejects(t.broker.shell.adminCall('approve', { ticket: 'nope' }), codeIs('E_REQUEST_NOT_FOUND'));
  });

  it('voids a decision when the capsule is removed or replaced while it is decided (issue 19 item 7)', async () => {
    await stopBroker(t, capsules);
    const installed = new Map([['notes', `${'ab'.repeat(8)}:${'01'.repeat(16)}`]]);
    t = await startBroker(dir.path, { invokeTimeoutMs: 500 }, true, { identities: (n) => installed.get(n) });
    capsules = [];
    spawn('shell', 'scripted-shell', [JSON.stringify(SCRIPT)]);
    const notes = spawn('notes', 'capsule');
    const pending = notes.drive({ cmd: 'request', op: 'request-capability', fields: READ });
    let asks: Array<{ ticket: string }> = [];
    while (asks.length === 0) asks = (await t.broker.shell.adminCall('requests', {})) as typeof asks;
    installed.set('notes', `${'cd'.repeat(8)}:${'02'.repeat(16)}`); // removed, then installed by another publisher
    await t.broker.shell.adminCall('approve', { ticket: asks[0]?.ticket, by: 'admin:0' });
    await assert.rejects(pending, codeIs('E_BROKER_DENIED'));
    assert.equal(t.tokens.list().length, 0);
  });

  it('records the arguments of each use of an allow-and-log token', async () => {
    const agent = spawn('agent', 'capsule');
    const { token } = (await agent.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as {
      token: string;
    };
    await agent.drive({ cmd: 'request', op: 'invoke', fields: invokeFields(token) });
    assert.equal(t.events[1]?.decision, 'allow-log');
    assert.deepEqual(t.events.at(-1)?.details, { args: '{"size":1}' });
  });

  it('answers a provider that never replies with E_TIMEOUT, and relays a provider error code', async () => {
    const app = spawn('photo-editor', 'capsule');
    const call = async (method: string) => {
      const fields = { ...READ, resource: 'storage://x', action: `invoke:${method}` };
      const { token } = (await app.drive({ cmd: 'request', op: 'request-capability', fields })) as { token: string };
      return app.drive({ cmd: 'request', op: 'invoke', fields: { ...invokeFields(token, 'storage://x'), method } });
    };
    await assert.rejects(call('hang'), codeIs('E_TIMEOUT'));
    await assert.rejects(call('fail'), codeIs('E_NOT_FOUND'));
  });

  it('answers malformed messages with E_IPC_SCHEMA and stops a capsule that sends garbage', async () => {
    const app = spawn('photo-editor', 'capsule');
    await assert.rejects(
      app.drive({ cmd: 'request', op: 'invoke', fields: { provider: 'storage' } }),
      codeIs('E_IPC_SCHEMA'),
    );
    await assert.rejects(app.drive({ cmd: 'request', op: 'launch-missiles', fields: {} }), codeIs('E_IPC_SCHEMA'));
    const junk = spawn('junk', 'capsule');
    await junk.drive({ cmd: 'garbage-json', n: 50 });
    await waitFor(() => t.broker.channel('junk') === undefined);
    const big = spawn('big', 'capsule');
    await big.drive({ cmd: 'raw', hex: 'ffffffff00' });
    await waitFor(() => t.broker.channel('big') === undefined);
    await waitFor(() => types().includes('capsule.stopped:E_IPC_FRAME'));
    assert.ok(types().includes('capsule.stopped:E_IPC_THROTTLED'));
  });

  it('throttles then stops a flooding capsule while another keeps working', async () => {
    const stopped: string[] = [];
    t.broker.onStopped((id, code) => stopped.push(`${id}:${code}`));
    const agent = spawn('agent', 'capsule');
    const flooder = spawn('flooder', 'capsule');
    const { token } = (await agent.drive({ cmd: 'request', op: 'request-capability', fields: READ })) as {
      token: string;
    };
    const flood = flooder.drive({ cmd: 'flood', n: 20_000, fields: invokeFields('x') });
    const lat = (await agent.drive({ cmd: 'loop', fields: invokeFields(token), n: 200, inFlight: 4 })) as number[];
    await flood;
    await waitFor(() => stopped.length > 0);
    assert.deepEqual(stopped, ['flooder:E_IPC_THROTTLED']);
    assert.equal(lat.length, 200, 'every invoke of the well-behaved capsule was answered');
    // Not slowed: without the throttle its answers would queue behind 20,000 audited denials (seconds).
    const median = lat[100] as number;
    assert.ok(median < 20_000, `median ${Math.round(median)} us during the flood`);
    assert.equal(t.broker.channel('agent')?.isOpen, true);
    await waitFor(() => types().includes('capsule.stopped:E_IPC_THROTTLED'));
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
