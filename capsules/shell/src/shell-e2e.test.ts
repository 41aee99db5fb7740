import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCode } from '@elastos/protocol/errors';
import { spawnCapsule, startBroker, stopBroker, type TestCapsule } from '@elastos/runtime/broker/fixtures/harness';
import { makeTempDir } from '@elastos/testkit';

const SHELL = fileURLToPath(new URL('./main.js', import.meta.url));
const RULES = {
  rules: [
    { capsule: '*', resource: 'storage://secrets/**', action: '*', decision: 'deny', note: 'never secrets' },
    { capsule: 'photo-editor', resource: 'storage://photos/**', action: 'read', decision: 'allow', maxUses: 2 },
    { capsule: 'notes', resource: 'storage://notes/**', action: 'write', decision: 'ask', maxTtlMs: 60_000 },
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

  it('approves the oldest ask on a long press of the button (presence relayed by the runtime, audited)', async () => {
    const notes = spawn('notes', 'capsule');
    const pending = request(notes, 'storage://notes/a.txt', 'write');
    while (((await t.broker.shell.adminCall('requests', {})) as unknown[]).length === 0);
    await t.broker.shell.presence();
    assert.equal((await pending).maxUses, 0);
    assert.ok(t.events.some((e) => e.type === 'request.presence' && e.actor === 'mcu'));
  });
});
