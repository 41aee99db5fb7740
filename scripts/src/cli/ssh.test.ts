import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  type AdminAccounts,
  createAdminAccounts,
  ELASTOS,
  ELASTOSD,
  makeTempDir,
  noTpmDevConfig,
  runAs,
  Sshd,
  type SshKey,
  type SystemAccount,
  stopChild,
} from '@elastos/testkit';
import type { Command } from 'commander';
import { REPO_ROOT } from '../workspaces.js';
import { buildProgram } from './program.js';

const WRAPPER = join(REPO_ROOT, 'scripts', 'ssh', 'elastos-ssh-wrapper');
const DROP_IN = join(REPO_ROOT, 'scripts', 'ssh', 'sshd_config.d', 'elastos-admin.conf');

/** A TCP server on 127.0.0.1 that greets and counts whoever reaches it (the target of forwarding attempts). */
async function target(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((s) => {
    hits++;
    s.end('hello from the target\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, hits: () => hits };
}

/** Commands that must not run through an admin key: shells, other programs, shell syntax, overrides. */
const ESCAPES = [
  ['/bin/sh', '-c', 'id'],
  ['id'],
  ['bash', '-i'],
  ['elastos', 'status;id'],
  ['elastos', 'status', '&&', 'id'],
  ['elastos', '$(id)'],
  ['elastos', '`id`'],
  ['elastos', 'status', '|', 'id'],
  ['elastos', 'status', '>/tmp/x'],
  ['elastos', '--config', '/etc/shadow', 'status'],
  ['/usr/bin/elastos', 'status'],
  // Only the listed subcommands and flags: nothing that reads a store or a TPM of the client's choosing.
  ['elastos', 'audit', 'verify', '--store', '/tmp'],
  ['elastos', 'audit', 'verify', '--tcti', 'cmd:/usr/bin/id'],
  ['elastos', 'audit', 'verify', '--tcti=cmd:/usr/bin/id'],
  ['elastos', 'audit', 'tail', '--lines', '--store'],
  ['elastos', 'provision'],
  ['elastos', 'capsule', 'keygen', '--out', '/tmp/k'],
  ['elastos', 'frobnicate'],
];

/**
 * Admin commands that must behave over SSH exactly as at the box's own terminal (exit status and
 * error code); each is tested once its area has registered it in the CLI.
 */
const PASS_THROUGH = [
  { path: ['audit', 'verify'], args: [], expect: 0 },
  // No shell capsule runs in this test: the runtime has no one to relay the approval to.
  { path: ['approve'], args: ['no-such-request'], expect: 'E_BROKER_NO_PROVIDER' },
  { path: ['capsule', 'list'], args: [], expect: 0 },
  { path: ['trust', 'list'], args: [], expect: 0 },
]
  .filter(({ path }) => {
    let cmd: Command | undefined = buildProgram();
    for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name);
    return cmd !== undefined;
  })
  .map(({ path, args, expect }) => ({ argv: [...path, ...args], expect }));

describe('elastos over SSH (a real OpenSSH sshd on 127.0.0.1)', function () {
  this.timeout(60_000);
  let accounts: AdminAccounts | undefined;
  let admin: SystemAccount;
  let outsider: SystemAccount;
  let dir: ReturnType<typeof makeTempDir>;
  let daemon: ChildProcess;
  let configPath: string;

  before(async function () {
    accounts = createAdminAccounts(this, {
      outsider: true,
      also: { available: existsSync('/usr/sbin/sshd'), what: 'openssh-server (scripts/setup installs it)' },
    });
    ({ admin } = accounts);
    outsider = accounts.outsider as SystemAccount;
    dir = makeTempDir();
    chmodSync(dir.path, 0o755);
    configPath = join(dir.path, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify(noTpmDevConfig({ logLevel: 'error', admin: { group: accounts.group.name } })),
    );
    chmodSync(configPath, 0o644);
    daemon = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', 'ignore', 'inherit'] });
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(dir.path, 'run', 'admin.sock'))) {
      if (Date.now() > deadline) throw new Error('elastosd did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  after(async () => {
    await stopChild(daemon);
    dir?.remove();
    accounts?.remove();
  });

  const forced = () => `${WRAPPER} --elastos ${ELASTOS} --config ${configPath}`;

  describe('an authorized_keys line restrict,command="elastos-ssh-wrapper ..."', () => {
    let sshd: Sshd;
    let key: SshKey;
    let control: SshKey;
    before(async () => {
      sshd = new Sshd(join(dir.path, 'ssh-key'));
      key = sshd.newKey('admin');
      control = sshd.newKey('control');
      sshd.authorize(admin.name, `restrict,command="${forced()}" ${key.publicKey}`);
      sshd.authorize(admin.name, control.publicKey); // unrestricted: shows the server would allow it
      sshd.authorize(outsider.name, `restrict,command="${forced()}" ${key.publicKey}`);
      await sshd.start('AcceptEnv NODE_OPTIONS LC_*\n'); // a permissive server: the wrapper must not rely on it
    });
    after(async () => sshd?.stop());

    it('runs elastos status as the admin user, over the admin socket', async () => {
      const r = await sshd.ssh(key, admin.name, ['elastos', '--json', 'status']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { pid: number }).pid, daemon.pid);
      const h = await sshd.ssh(key, admin.name, ['elastos', 'health']);
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, /^memory /m);
    });

    it('refuses a user outside the admin group at the runtime, whatever key it has', async () => {
      const r = await sshd.ssh(key, outsider.name, ['elastos', 'status']);
      assert.equal(r.code, 77, r.stderr);
      assert.match(r.stderr, /^error E_ADMIN_DENIED: /m);
    });

    for (const { argv, expect } of PASS_THROUGH) {
      it(`runs elastos ${argv.join(' ')} as at the box's terminal (same exit status and error code)`, async () => {
        const local = await runAs(admin.name, process.execPath, [ELASTOS, '--config', configPath, ...argv]);
        const remote = await sshd.ssh(key, admin.name, ['elastos', ...argv]);
        const code = (r: { stderr: string }) => /^error (E_[A-Z_]+):/m.exec(r.stderr)?.[1] ?? null;
        assert.deepEqual([remote.code, code(remote)], [local.code, code(local)], remote.stderr);
        assert.equal(expect === 0 ? local.code : code(local), expect, local.stderr);
      });
    }

    it('runs elastos with a clean environment: NODE_OPTIONS sent by the client does not reach node', async () => {
      const drop = join(dir.path, 'drop');
      mkdirSync(drop);
      chmodSync(drop, 0o1777); // the admin user may leave its marker here
      const evil = join(drop, 'evil.cjs');
      const marker = join(drop, 'evil-ran');
      writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');`);
      chmodSync(evil, 0o644);
      const env = ['-o', `SetEnv=NODE_OPTIONS=--require=${evil}`];
      const shown = await sshd.ssh(control, admin.name, ['node', '-e', '0'], env);
      assert.equal(shown.code, 0, shown.stderr);
      assert.ok(existsSync(marker), 'the server does pass NODE_OPTIONS on (control key)');
      rmSync(marker);
      const r = await sshd.ssh(key, admin.name, ['elastos', 'status'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(existsSync(marker), false);
    });

    it('passes elastos errors and exit statuses through', async () => {
      const r = await sshd.ssh(key, admin.name, ['elastos', 'capsule', 'start', 'no-such-capsule']);
      assert.equal(r.code, 66, r.stderr);
      assert.match(r.stderr, /^error E_NOT_FOUND: /m);
    });

    it('gives no shell and runs no other program (the unrestricted control key can)', async () => {
      const shown = await sshd.ssh(control, admin.name, ['/bin/sh', '-c', 'id']);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`^uid=${admin.id}\\(`));
      for (const command of ESCAPES) {
        const r = await sshd.ssh(key, admin.name, command);
        assert.equal(r.code, 64, `${command.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /^error E_USAGE: /m, command.join(' '));
        assert.doesNotMatch(r.stdout + r.stderr, /uid=\d+/, command.join(' '));
      }
      const login = await sshd.ssh(key, admin.name, [], ['-T']);
      assert.equal(login.code, 64, login.stdout + login.stderr);
      assert.match(login.stderr, /^error E_USAGE: no command given \(no shell here\)$/m);
      const tty = await sshd.ssh(key, admin.name, [], ['-tt']);
      assert.equal(tty.code, 255); // no pty for this key, and so no interactive shell
      assert.match(tty.stderr, /PTY allocation request failed/);
    });

    it('forwards no ports (the unrestricted control key can)', async () => {
      const t = await target();
      try {
        const direct = await sshd.ssh(control, admin.name, [], ['-W', `127.0.0.1:${t.port}`]);
        assert.match(direct.stdout, /hello from the target/);
        assert.equal(t.hits(), 1);
        const w = await sshd.ssh(key, admin.name, [], ['-W', `127.0.0.1:${t.port}`]);
        assert.equal(w.code, 255);
        assert.match(w.stderr, /administratively prohibited|forwarding failed|open failed/);
        const remote = ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', `127.0.0.1:0:127.0.0.1:${t.port}`];
        const rf = await sshd.ssh(key, admin.name, [], remote);
        assert.equal(rf.code, 255);
        assert.match(rf.stderr, /remote port forwarding failed/);
        assert.equal(t.hits(), 1, 'the restricted key reached nothing');
      } finally {
        t.server.close();
      }
    });
  });

  describe('the documented sshd drop-in (scripts/ssh/sshd_config.d/elastos-admin.conf)', () => {
    let sshd: Sshd;
    let key: SshKey;
    before(async () => {
      sshd = new Sshd(join(dir.path, 'ssh-dropin'));
      key = sshd.newKey('plain');
      sshd.authorize(admin.name, key.publicKey); // no options on the key: the drop-in alone restricts it
      const dropIn = readFileSync(DROP_IN, 'utf8')
        .replace(/^Match Group elastos-admin$/m, `Match Group ${accounts?.group.name}`)
        .replace('/usr/lib/elastos/elastos-ssh-wrapper', forced());
      await sshd.start(dropIn);
    });
    after(async () => sshd?.stop());

    it('lets an admin-group key run elastos, and nothing else, and forward nothing', async () => {
      const r = await sshd.ssh(key, admin.name, ['elastos', '--json', 'status']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { pid: number }).pid, daemon.pid);
      for (const command of [['/bin/sh', '-c', 'id'], ['id'], ['elastos', 'status;id']]) {
        const e = await sshd.ssh(key, admin.name, command);
        assert.equal(e.code, 64, command.join(' '));
        assert.doesNotMatch(e.stdout + e.stderr, /uid=\d+/);
      }
      const t = await target();
      try {
        const w = await sshd.ssh(key, admin.name, [], ['-W', `127.0.0.1:${t.port}`]);
        assert.equal(w.code, 255);
        assert.equal(t.hits(), 0);
      } finally {
        t.server.close();
      }
    });
  });
});
