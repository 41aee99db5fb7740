import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCode } from '@elastos/runtime';
import { spawnCapsule, startBroker, stopBroker, type TestCapsule } from '@elastos/runtime/broker/fixtures/harness';
import { makeTempDir, pollFor } from '@elastos/testkit';
import { AskQueue } from './ask-queue.js';

const SHELL = fileURLToPath(new URL('./main.js', import.meta.url));
const RULES = {
  rules: [
    {
      capsule: 'notes',
      resource: 'storage://notes/**',
      action: 'write',
      decision: 'ask',
      note: 'notes writes need a yes',
    },
  ],
};
type Ask = { ticket: string; reason: string; request: { capsule: string; requestId: string } };

describe('the ask queue: expiry with the requester, persistence across a shell restart, reasons', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof makeTempDir>;
  let t: Awaited<ReturnType<typeof startBroker>>;
  let capsules: TestCapsule[];
  let shell: TestCapsule;
  const spawn = (id: string, name: string, args: string[] = []) => {
    const c = spawnCapsule(t.broker, id, name, args);
    capsules.push(c);
    return c;
  };
  const startShell = () => {
    shell = spawn('shell', SHELL, [join(dir.path, 'rules.json'), join(dir.path, 'asks.json')]);
  };
  const asks = () => t.broker.shell.adminCall('requests', {}) as Promise<Ask[]>;
  const oneAsk = () => pollFor('a pending ask', async () => (await asks())[0], 10_000, 20);
  const ask = (c: TestCapsule) =>
    c.drive({
      cmd: 'request',
      op: 'request-capability',
      fields: { audience: 'storage', resource: 'storage://notes/todo.txt', action: 'write', reason: 'save the list' },
    }) as Promise<{ token: string }>;

  beforeEach(async () => {
    dir = makeTempDir();
    capsules = [];
    t = await startBroker(dir.path);
    writeFileSync(join(dir.path, 'rules.json'), JSON.stringify(RULES));
    startShell();
  });
  afterEach(async () => {
    await stopBroker(t, capsules);
    dir.remove();
  });

  it('says why each ask was made: the rule, then the capsule in its own words', async () => {
    const notes = spawn('notes', 'capsule');
    void ask(notes).catch(() => undefined);
    const a = await oneAsk();
    assert.equal(a.reason, 'notes writes need a yes (notes: save the list)');
  });

  it('expires an ask when its requester dies (audited), and approving it then issues nothing', async () => {
    const notes = spawn('notes', 'capsule');
    void ask(notes).catch(() => undefined);
    const a = await oneAsk();
    notes.child.kill('SIGKILL');
    await notes.exited;
    const expired = await pollFor('request.expire', async () => t.events.find((e) => e.type === 'request.expire'));
    assert.equal(expired.code, 'E_REQUEST_EXPIRED');
    assert.equal(expired.actor, 'runtime');
    assert.deepEqual(
      [expired.details?.ticket, expired.details?.holder, expired.details?.requestId],
      [a.ticket, 'notes', a.request.requestId],
    );
    await pollFor('an empty queue', async () => ((await asks()).length === 0 ? true : undefined), 5000, 20);
    await assert.rejects(t.broker.shell.adminCall('approve', { ticket: a.ticket, by: 'admin:0' }), (e: unknown) =>
      hasCode(e, 'E_REQUEST_NOT_FOUND'),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      t.events.filter((e) => e.type === 'token.issue').length,
      0,
      'no token was issued to the dead requester',
    );
  });

  it('keeps pending asks across a restart of the shell; the requester still gets its answer', async () => {
    const notes = spawn('notes', 'capsule');
    const pending = ask(notes);
    const a = await oneAsk();
    assert.ok(existsSync(join(dir.path, 'asks.json')));
    shell.child.kill('SIGKILL');
    await shell.exited;
    // The process's exit can be seen before the broker reads the end of its channel.
    await pollFor(
      'the old shell channel to close',
      async () => (t.broker.channel('shell')?.isOpen ? undefined : true),
      5000,
      10,
    );
    startShell();
    const again = await oneAsk();
    assert.equal(again.ticket, a.ticket);
    await t.broker.shell.adminCall('approve', { ticket: a.ticket, by: 'admin:0' });
    assert.ok((await pending).token);
  });

  it('drops asks the runtime no longer waits for when the shell starts (keep)', () => {
    const file = join(dir.path, 'q.json');
    const q = new AskQueue(() => undefined, file);
    const request = { requestId: 'r', capsule: 'notes', audience: 'storage', resource: 'storage://x', action: 'read' };
    const live = q.add(request, { decision: 'allow' }, 'why');
    q.add(request, { decision: 'allow' }, 'why');
    const reloaded = new AskQueue(() => undefined, file);
    assert.equal(reloaded.list().length, 2);
    assert.equal(reloaded.keep([live]).length, 1);
    assert.deepEqual(
      new AskQueue(() => undefined, file).list().map((x) => x.ticket),
      [live],
    );
  });
});
