/**
 * The seed's story end to end: a real elastosd on a real swtpm, the first-party capsules built,
 * signed, installed, measured and spawned through the real launcher, the real shell deciding by
 * the story's rules, and the outcome read back from the audit trail, the token list and the
 * storage capsule's files. Then a crashing capsule: restarted with backoff, audited, stopped.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenSummary } from '@elastos/protocol/admin/replies';
import { buildPackage, signPackage } from '@elastos/publisher';
import { makeTempDir, pollFor, Swtpm } from '@elastos/testkit';
import jpeg from 'jpeg-js';
import { devPublisherKey } from '../capsule/build-first-party.js';
import type { TrailRecord } from './narrate.js';
import { type StoryDaemon, startStoryDaemon } from './story-daemon.js';

type TokenRow = TokenSummary;

describe('the seed story end to end (swtpm, launcher, broker, shell, audit)', function () {
  this.timeout(120_000);
  const dir = makeTempDir('story-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  let story: StoryDaemon | undefined;
  let call: StoryDaemon['call'];
  let trail: TrailRecord[] = [];

  const refresh = async () => {
    trail = (await call('audit.tail', { limit: 5000 })) as TrailRecord[];
    return trail;
  };
  /** How long a listed token lives, measured from its audited issue. */
  const lifetime = (t: TokenRow | undefined) => {
    const issued = trail.find((r) => r.type === 'token.issue' && r.tokenId === t?.id);
    assert.ok(t && issued, 'the token and its token.issue record');
    return Date.parse(t.expiry) - issued.time;
  };
  const near = (ms: number, want: number) => assert.ok(Math.abs(ms - want) < 5000, `${ms} ms is about ${want} ms`);
  const logsOf = async (name: string) =>
    ((await call('capsule.logs', { name, lines: 200 })) as { lines: string[] }).lines;

  before(async () => {
    await swtpm.start();
    story = await startStoryDaemon({
      dir: dir.path,
      swtpm,
      config: { confine: { restart: { initialDelayMs: 100, maxDelayMs: 2000, crashLimit: 3, crashWindowMs: 60_000 } } },
    });
    call = story.call;
  });

  after(async () => {
    await story?.stop();
    await swtpm.stop();
    dir.remove();
  });

  it('runs every app to its end, each confined and measured before it was spawned', async () => {
    for (const app of ['notes', 'photo-editor', 'agent']) {
      await pollFor(`${app} to finish`, async () =>
        (await logsOf(app)).some((l) => l.endsWith(`${app} done`)) ? true : undefined,
      );
    }
    for (const app of ['notes', 'photo-editor', 'agent']) {
      assert.equal((await logsOf(app)).filter((l) => l.includes(`${app} failed`)).length, 0, `${app} did not fail`);
    }
    const rows = (await call('capsule.status')) as Array<{ name: string; state: string; pid: number | null }>;
    for (const r of rows) assert.equal(r.state, 'running', `${r.name} runs`);
    await refresh();
    for (const name of ['shell', 'storage', 'sysinfo', 'notes', 'photo-editor', 'agent']) {
      const measured = trail.findIndex((r) => r.type === 'capsule.measured' && r.resource === name);
      const started = trail.findIndex((r) => r.type === 'capsule.start' && r.resource === `capsule:${name}`);
      assert.ok(measured >= 0 && started > measured, `${name} measured (#${measured}) before its start (#${started})`);
    }
  });

  it('photo-editor: a 1-hour read token on the photo, used; an edited copy written; everything else refused', async () => {
    const tokens = (await call('token.list')) as TokenRow[];
    const read = tokens.find((t) => t.holder === 'photo-editor' && t.action === 'read');
    assert.equal(read?.resource, 'storage://photos/vacation.jpg');
    near(lifetime(read), 3_600_000);
    const by = (actor: string) => trail.filter((r) => r.actor === `capsule:${actor}`);
    const uses = by('photo-editor').filter((r) => r.type === 'invoke' && r.decision === 'allow');
    assert.ok(uses.some((r) => r.resource === 'storage://photos/vacation.jpg' && r.action === 'read'));
    assert.ok(uses.some((r) => r.resource === 'storage://photos/vacation-edited.jpg' && r.action === 'write'));
    const denied = trail.filter((r) => r.decision === 'deny');
    assert.ok(
      denied.some(
        (r) =>
          r.actor === 'capsule:photo-editor' &&
          r.code === 'E_TOKEN_SCOPE' &&
          r.resource === 'storage://photos/passport.jpg',
      ),
    );
    assert.ok(denied.some((r) => r.code === 'E_BROKER_DENIED' && r.action === 'delete'));
    // Storage's data is on its own volume, mounted in its mount namespace only: read through its root.
    const rows = (await call('capsule.status')) as Array<{ name: string; pid: number | null }>;
    const pid = rows.find((r) => r.name === 'storage')?.pid;
    assert.ok(pid, 'storage runs');
    const files = `/proc/${pid}/root/capsule/data/files/photos`;
    const original = readFileSync(join(files, 'vacation.jpg'));
    const edited = readFileSync(join(files, 'vacation-edited.jpg'));
    assert.match(edited.subarray(0, 64).toString('latin1'), /edited by photo-editor/);
    assert.deepEqual(jpeg.decode(edited).data, jpeg.decode(original).data, 'same picture, one comment more');
  });

  it('agent: a 30-minute read token on one file; another file is E_TOKEN_SCOPE, a wider grant is denied', async () => {
    const tokens = (await call('token.list')) as TokenRow[];
    const t = tokens.find((x) => x.holder === 'agent');
    assert.equal(t?.resource, 'storage://notes/todo.txt');
    near(lifetime(t), 1_800_000);
    const agent = trail.filter((r) => r.actor === 'capsule:agent');
    assert.ok(
      agent.some((r) => r.type === 'invoke' && r.decision === 'allow' && r.resource === 'storage://notes/todo.txt'),
    );
    assert.ok(agent.some((r) => r.code === 'E_TOKEN_SCOPE' && r.resource === 'storage://notes/diary.txt'));
    assert.ok(
      trail.some((r) => r.code === 'E_BROKER_DENIED' && r.resource === 'storage://notes/' && r.action === 'read'),
    );
    const seqs = trail.map((r) => r.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'one ordered trail',
    );
  });

  it('a crashing capsule is restarted with growing backoff, each exit audited, then stopped as a crash loop', async () => {
    const key = await devPublisherKey(join(dir.path, 'publisher.key'));
    const manifest = {
      name: 'crasher',
      version: '0.1.0',
      publisher: key.keyId,
      type: 'app' as const,
      entry: 'main.js',
      capabilities: [],
      limits: { memoryMiB: 64, pids: 16, cpuPercent: 50 },
      network: false,
    };
    const code = new TextEncoder().encode("setTimeout(() => { throw new Error('boom'); }, 50);\n");
    const pkg = await signPackage(buildPackage(manifest, new Map([['main.js', code]])), key.secretKey);
    mkdirSync(join(dir.path, 'pkgs'), { recursive: true });
    writeFileSync(join(dir.path, 'pkgs', 'crasher.capsule'), pkg);
    await call('capsule.install', { path: join(dir.path, 'pkgs', 'crasher.capsule') });
    await call('capsule.start', { name: 'crasher' });
    await pollFor('the crash loop', async () => {
      const rows = (await call('capsule.status')) as Array<{ name: string; state: string }>;
      return rows.find((r) => r.name === 'crasher' && r.state === 'crashloop');
    });
    const mine = (await refresh()).filter((r) => r.resource === 'capsule:crasher');
    const starts = mine.filter((r) => r.type === 'capsule.start').map((r) => r.time);
    const exits = mine.filter((r) => r.type === 'capsule.exit');
    assert.equal(starts.length, 4, 'the first run and three restarts');
    assert.ok(exits.length >= 4);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    assert.ok((gaps[2] as number) > (gaps[0] as number), `backoff grows: ${gaps.join(', ')} ms`);
    assert.ok(mine.some((r) => r.type === 'capsule.crashloop' && r.code === 'E_CAPSULE_CRASHLOOP'));
    assert.ok(
      (await logsOf('crasher')).some((l) => l.includes('boom')),
      'its stderr is in its log',
    );
  });
});
