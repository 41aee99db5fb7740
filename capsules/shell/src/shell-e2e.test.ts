import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCode } from '@elastos/protocol/errors';
import { spawnCapsule, startBroker, stopBroker, type TestCapsule } from '@elastos/runtime/broker/fixtures/harness';
import { grantLanRanges } from '@elastos/runtime/broker/lan-grant';
import { makeTempDir, pollFor } from '@elastos/testkit';

const SHELL = fileURLToPath(new URL('./main.js', import.meta.url));
const RULES = {
  rules: [
    { capsule: '*', resource: 'storage://secrets/**', action: '*', decision: 'deny', note: 'never secrets' },
    { capsule: 'photo-editor', resource: 'storage://photos/**', action: 'read', decision: 'allow', maxUses: 2 },
    { capsule: 'notes', resource: 'storage://notes/**', action: 'write', decision: 'ask', maxTtlMs: 60_000 },
    { capsule: 'printer', resource: 'lan://192.168.7.0/24', action: 'net', decision: 'allow' },
    { capsule: '*', resource: 'lan://10.9.0.0/16', action: 'net', decision: 'deny', note: 'not that LAN' },
  ],
};
const codeIs = (code: string) => (e: unknown) => hasCode(e, code as never);

describe('the shell capsule deciding for the real broker over IPC', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof makeTempDir>;
  let t: Awaited<ReturnType<typeof startBroker>>;
  let capsules: TestCapsule[];
  const spawn = (id: string, name: string, args: string[] = []) => {
    const c = spawnCapsule(t.broker, id, name, args);
    capsules.push(c);
    return c;
  };
  const request = (c: TestCapsule, resource: string, action: string) =>
    c.drive({
      cmd: 'request',
      op: 'request-capability',
      fields: { audience: 'storage', resource, action },
    }) as Promise<{
      token: string;
      maxUses: number;
    }>;
  const invoke = (c: TestCapsule, token: string, resource: string, method: string) =>
    c.drive({ cmd: 'request', op: 'invoke', fields: { provider: 'storage', method, resource, args: null, token } });

  beforeEach(async () => {
    dir = makeTempDir();
    capsules = [];
    t = await startBroker(dir.path);
    const rules = join(dir.path, 'rules.json');
    writeFileSync(rules, JSON.stringify(RULES));
    spawn('shell', SHELL, [rules]);
    spawn('storage', 'provider');
  });
  afterEach(async () => {
    await stopBroker(t, capsules);
    dir.remove();
  });

  it('grants by rule with its use limit, denies by rule, and auto-approves what no rule names', async () => {
    const app = spawn('photo-editor', 'capsule');
    const grant = await request(app, 'storage://photos/', 'read');
    assert.equal(grant.maxUses, 2);
    await invoke(app, grant.token, 'storage://photos/a.jpg', 'read');
    await invoke(app, grant.token, 'storage://photos/b.jpg', 'read');
    await assert.rejects(invoke(app, grant.token, 'storage://photos/c.jpg', 'read'), codeIs('E_TOKEN_EXHAUSTED'));
    await assert.rejects(request(app, 'storage://secrets/key', 'read'), codeIs('E_BROKER_DENIED'));
    const other = await request(app, 'storage://music/', 'list');
    assert.equal(other.maxUses, 0);
    const decided = t.events.filter((e) => e.type === 'token.issue' || e.type === 'capability.decision');
    assert.deepEqual(
      decided.map((e) => [e.decision, (e.details as { reason?: string })?.reason]),
      [
        ['allow', 'rule 2'],
        ['deny', 'never secrets'],
        ['allow', 'default: auto-approve'],
      ],
    );
  });

  it('queues an ask for the admin, who approves it over the runtime relay', async () => {
    const notes = spawn('notes', 'capsule');
    const pending = request(notes, 'storage://notes/todo.txt', 'write');
    let asks: Array<{ ticket: string; request: { capsule: string } }> = [];
    while (asks.length === 0) asks = (await t.broker.shell.adminCall('requests', {})) as typeof asks;
    assert.equal(asks[0]?.request.capsule, 'notes');
    await t.broker.shell.adminCall('approve', { ticket: asks[0]?.ticket, by: 'admin:0' });
    const grant = await pending;
    assert.deepEqual(await invoke(notes, grant.token, 'storage://notes/todo.txt', 'write'), {
      caller: 'notes',
      method: 'write',
      resource: 'storage://notes/todo.txt',
      args: null,
    });
    await assert.rejects(
      t.broker.shell.adminCall('deny', { ticket: 'gone', by: 'admin:0' }),
      codeIs('E_REQUEST_NOT_FOUND'),
    );
  });

  it('binds a long press to the one request the box shows, inside its window; one press, one request', async () => {
    await stopBroker(t, capsules);
    capsules = [];
    t = await startBroker(join(dir.path, 'presence'), { presenceWindowMs: 400 });
    spawn('shell', SHELL, [join(dir.path, 'rules.json')]);
    spawn('storage', 'provider');
    type Row = { ticket: string; request: { capsule: string }; button?: { until: string } };
    const shownTo = (capsule: string) =>
      pollFor(
        `the button to show ${capsule}'s request`,
        async () => {
          const rows = (await t.broker.shell.requests()) as Row[];
          return rows.find((r) => r.button && r.request.capsule === capsule);
        },
        10_000,
        20,
      );
    // A hostile capsule queues a risky request just before the legitimate one: it is shown first.
    const thief = spawn('thief', 'capsule');
    const hostile = request(thief, 'storage://photos/', 'delete');
    hostile.catch(() => undefined);
    const hostileRow = await shownTo('thief');
    const notes = spawn('notes', 'capsule');
    const pending = request(notes, 'storage://notes/a.txt', 'write');
    await pollFor('two asks', async () =>
      ((await t.broker.shell.requests()) as Row[]).length === 2 ? true : undefined,
    );
    // A press that began before the request was shown answers nothing.
    assert.equal(await t.broker.shell.presence({ at: Date.now(), durationMs: 60_000 }), null);
    // The user waits: the thief's window closes unpressed, the notes request is shown, a press answers it.
    const notesRow = await shownTo('notes');
    await t.broker.shell.presence({ at: Date.now(), durationMs: 1 });
    assert.equal((await pending).maxUses, 0);
    // The same long press cannot answer the next request too (it began before that one was shown).
    assert.equal(await t.broker.shell.presence({ at: Date.now(), durationMs: 3000 }), null);
    const rows = (await t.broker.shell.requests()) as Row[];
    assert.deepEqual(
      rows.map((r) => r.ticket),
      [hostileRow.ticket],
      'the hostile request is still pending',
    );
    const presses = t.events.filter((e) => e.type === 'request.presence');
    assert.deepEqual(
      presses.map((e) => [e.decision, e.code, (e.details as { ticket?: string }).ticket]),
      [
        ['deny', 'E_PRESENCE_UNBOUND', undefined],
        ['allow', undefined, notesRow.ticket],
        ['deny', 'E_PRESENCE_UNBOUND', undefined],
      ],
    );
  });
  it('decides the LAN ranges a manifest names at a start: a rule grants, a deny and an unanswered ask do not', async () => {
    const named = ['192.168.7.0/24', '10.9.0.0/16', '172.16.5.0/24'];
    assert.deepEqual(await grantLanRanges(t.broker, 'printer', named), ['192.168.7.0/24']);
    assert.deepEqual(
      await grantLanRanges(t.broker, 'notes', ['192.168.7.0/24']),
      [],
      'the rule names the printer only',
    );
    // The learning agent asked about 172.16.5.0/24 (net is risky); the start did not wait and withdrew it.
    assert.deepEqual(await t.broker.shell.adminCall('requests', {}), []);
    const lan = t.events.filter((e) => e.type === 'network.lan');
    assert.deepEqual(
      lan.map((e) => [e.details?.capsule, e.resource, e.decision]),
      [
        ['printer', 'lan://192.168.7.0/24', 'allow'],
        ['printer', 'lan://10.9.0.0/16', 'deny'],
        ['printer', 'lan://172.16.5.0/24', 'deny'],
        ['notes', 'lan://192.168.7.0/24', 'deny'],
      ],
    );
    assert.match(
      String(lan[2]?.details?.reason),
      /the shell asked .*learning-agent: net is risky.*not granted at start/,
    );
  });
});
