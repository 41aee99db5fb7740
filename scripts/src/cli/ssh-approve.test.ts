/**
 * An admin decides real pending requests over SSH: a real elastosd on swtpm runs the story's
 * capsules; the shell's rules make two of photo-editor's requests an "ask"; the admin, through
 * a real sshd and the restricted key's forced wrapper, lists them, approves one and denies the
 * other. The capsule gets its token (and only that one), the queue empties, and the trail holds
 * who decided what, before the token it led to.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenSummary } from '@elastos/protocol/admin/replies';
import type { PendingAsk } from '@elastos/protocol/ipc/decision';
import {
  type AdminAccounts,
  createAdminAccounts,
  ELASTOS,
  makeTempDir,
  pollFor,
  Sshd,
  type SshKey,
  Swtpm,
  type SystemAccount,
} from '@elastos/testkit';
import { storyLine, type TrailRecord } from '../demo/narrate.js';
import { type ShellRules, STORY_RULES } from '../demo/story.js';
import { type StoryDaemon, startStoryDaemon } from '../demo/story-daemon.js';
import { REPO_ROOT } from '../workspaces.js';

const WRAPPER = join(REPO_ROOT, 'scripts', 'ssh', 'elastos-ssh-wrapper');
const PHOTO = 'storage://photos/vacation.jpg';
const EDITED = 'storage://photos/vacation-edited.jpg';

/** The story's rules, except that photo-editor's read and write go to the admin. */
const ASK_RULES: ShellRules = {
  rules: STORY_RULES.rules.map((r) =>
    r.capsule === 'photo-editor' ? { ...r, decision: 'ask', note: `${r.note} (the admin decides)` } : r,
  ),
};

type AskRow = PendingAsk;
type TokenRow = TokenSummary;

describe('approve and deny real pending requests over SSH (sshd, swtpm, the story capsules)', function () {
  this.timeout(120_000);
  let accounts: AdminAccounts | undefined;
  let admin: SystemAccount;
  let dir: ReturnType<typeof makeTempDir>;
  let swtpm: Swtpm;
  let story: StoryDaemon | undefined;
  let sshd: Sshd;
  let key: SshKey;

  /** `elastos ARGS` over SSH as the admin, through the restricted key. */
  const remote = (...argv: string[]) => sshd.ssh(key, admin.name, ['elastos', ...argv]);
  const remoteJson = async <T>(...argv: string[]): Promise<T> => {
    const r = await remote('--json', ...argv);
    assert.equal(r.code, 0, `elastos ${argv.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  /** Waits (over SSH) until the shell queues photo-editor's request for `action`. */
  const pending = (action: string) =>
    pollFor(
      `a pending ${action} request from photo-editor`,
      async () =>
        (await remoteJson<AskRow[]>('requests')).find(
          (r) => r.request.capsule === 'photo-editor' && r.request.action === action,
        ),
      60_000,
      250,
    );

  before(async function () {
    accounts = createAdminAccounts(this, {
      also: { available: existsSync('/usr/sbin/sshd'), what: 'openssh-server (scripts/setup installs it)' },
    });
    admin = accounts.admin;
    dir = makeTempDir('ssh-approve-');
    chmodSync(dir.path, 0o755); // the admin user reads the config and reaches the socket
    swtpm = new Swtpm(join(dir.path, 'swtpm'));
    await swtpm.start();
    story = await startStoryDaemon({
      dir: dir.path,
      swtpm,
      config: { admin: { group: accounts.group.name } },
      rules: ASK_RULES,
    });

    sshd = new Sshd(join(dir.path, 'ssh'));
    key = sshd.newKey('admin');
    const forced = `${WRAPPER} --elastos ${ELASTOS} --config ${story.configPath}`;
    sshd.authorize(admin.name, `restrict,command="${forced}" ${key.publicKey}`);
    await sshd.start();
  });

  after(async () => {
    await sshd?.stop();
    await story?.stop();
    await swtpm?.stop();
    dir?.remove();
    accounts?.remove();
  });

  it('approves the read over SSH: the request leaves the queue and photo-editor holds its token', async () => {
    const read = await pending('read');
    assert.equal(read.request.resource, PHOTO);
    assert.equal(read.request.audience, 'storage');
    const table = await remote('requests'); // the human view lists it too
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${read.ticket} +photo-editor +storage +read +${PHOTO}`, 'm'));

    const ok = await remote('approve', read.ticket);
    assert.equal(ok.code, 0, ok.stderr);

    const rows = await remoteJson<AskRow[]>('requests');
    assert.equal(
      rows.find((r) => r.ticket === read.ticket),
      undefined,
      'the approved request is no longer pending',
    );
    const tokens = await remoteJson<TokenRow[]>('token', 'list');
    assert.ok(tokens.some((t) => t.holder === 'photo-editor' && t.action === 'read' && t.resource === PHOTO));

    const again = await remote('approve', read.ticket); // decided once: a second answer has nothing to decide
    assert.equal(again.code, 66, again.stderr);
    assert.match(again.stderr, /^error E_REQUEST_NOT_FOUND: /m);
  });

  it('denies the write over SSH: photo-editor gets no token for it and says so', async () => {
    const write = await pending('write'); // asked only after the approved read let it open the photo
    assert.equal(write.request.resource, EDITED);
    const no = await remote('deny', write.ticket);
    assert.equal(no.code, 0, no.stderr);
    assert.deepEqual(
      (await remoteJson<AskRow[]>('requests')).filter((r) => r.request.capsule === 'photo-editor'),
      [],
    );
    const tokens = await remoteJson<TokenRow[]>('token', 'list');
    assert.equal(
      tokens.find((t) => t.holder === 'photo-editor' && t.action === 'write'),
      undefined,
    );
    const logs = await pollFor(
      'photo-editor to finish',
      async () => {
        const out = (await remote('capsule', 'logs', 'photo-editor', '--lines', '200')).stdout;
        return /photo-editor done/.test(out) ? out : undefined;
      },
      30_000,
      250,
    );
    assert.match(logs, /ok +request read storage:\/\/photos\/vacation\.jpg/);
    assert.match(logs, /refused request write storage:\/\/photos\/vacation-edited\.jpg.*: E_BROKER_DENIED/);
  });

  it('the trail (read over SSH) says which admin decided what, and the grant follows the approval', async () => {
    const tail = await remote('--json', 'audit', 'tail', '--lines', '5000'); // JSON lines, a record each
    assert.equal(tail.code, 0, tail.stderr);
    const trail = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TrailRecord);
    const by = `admin:${admin.id}`;
    const asked = trail.filter((r) => r.type === 'capability.decision' && r.decision === 'ask');
    assert.equal(asked.length, 2, 'two asks, one per photo-editor request');
    const [readTicket, writeTicket] = asked.map((r) => String(r.details?.ticket));
    const approve = trail.find((r) => r.type === 'request.approve' && r.details?.ticket === readTicket);
    const deny = trail.find((r) => r.type === 'request.deny' && r.details?.ticket === writeTicket);
    assert.equal(approve?.actor, by, 'the approval names the SSH user (from SO_PEERCRED)');
    assert.equal(deny?.actor, by);
    const grant = trail.find(
      (r) =>
        r.type === 'token.issue' && r.resource === PHOTO && r.action === 'read' && r.details?.holder === 'photo-editor',
    );
    assert.ok(grant && approve && grant.seq > approve.seq, 'the read token is issued after the approval');
    assert.equal(
      trail.find((r) => r.type === 'token.issue' && r.resource === EDITED),
      undefined,
      'no token for the denied write',
    );
    assert.match(storyLine(approve) ?? '', new RegExp(`YES +${by} approves request ${readTicket}`));
    assert.match(storyLine(deny) ?? '', new RegExp(`NO +${by} denies request ${writeTicket}`));
    const verify = await remote('audit', 'verify');
    assert.equal(verify.code, 0, verify.stderr);
  });
});
