import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A throw-away system user or group for tests that need a second uid; removed by `remove()`. */
export interface SystemAccount {
  name: string;
  /** uid for a user, gid for a group. */
  id: number;
  remove(): void;
}

/** True when this process may create users (root); tests that need a second uid require it. */
export function canCreateAccounts(): boolean {
  return process.getuid?.() === 0;
}

function shortName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** `groupadd --system`: a group that exists only for this test. */
export function createSystemGroup(prefix = 'elt-g'): SystemAccount {
  const name = shortName(prefix);
  execFileSync('groupadd', ['--system', name]);
  const id = Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
  return { name, id, remove: () => execFileSync('groupdel', [name], { stdio: 'ignore' }) };
}

/**
 * `useradd --system` with no home and a real shell (sshd runs a forced command through the
 * user's shell), key-only, optionally a supplementary member of `groups`.
 */
export function createSystemUser(options: { groups?: string[]; prefix?: string } = {}): SystemAccount {
  const name = shortName(options.prefix ?? 'elt-u');
  const args = ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', '--user-group'];
  if (options.groups && options.groups.length > 0) args.push('--groups', options.groups.join(','));
  // Password field `*`: no password login, yet not "locked" (`!`), which sshd refuses even for keys.
  execFileSync('useradd', [...args, '--password', '*', name]);
  const id = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  return {
    name,
    id,
    remove: () => {
      execFileSync('userdel', [name], { stdio: 'ignore' });
      try {
        execFileSync('groupdel', [name], { stdio: 'ignore' }); // its --user-group, if userdel left it
      } catch {}
    },
  };
}

/** An admin group with one member, and an outsider (no admin group) when asked for. */
export interface AdminAccounts {
  group: SystemAccount;
  admin: SystemAccount;
  outsider: SystemAccount | undefined;
  /** Removes the users, then the group. */
  remove(): void;
}

/**
 * Throw-away accounts for tests of the admin socket and SSH. Needs root: without it the test is
 * skipped locally and FAILS in CI (CI=true), like a missing kernel feature; `also` adds another
 * prerequisite (e.g. sshd installed) under the same rule.
 */
export function createAdminAccounts(
  ctx: Mocha.Context,
  options: { outsider?: boolean; also?: { available: boolean; what: string } } = {},
): AdminAccounts {
  const missing = [
    canCreateAccounts() ? '' : 'root (to create test users)',
    options.also && !options.also.available ? options.also.what : '',
  ].filter((m) => m !== '');
  if (missing.length > 0) {
    if (process.env.CI) throw new Error(`CI: prerequisite missing: ${missing.join(', ')}`);
    ctx.skip();
  }
  const group = createSystemGroup();
  const admin = createSystemUser({ groups: [group.name] });
  const outsider = options.outsider ? createSystemUser() : undefined;
  return {
    group,
    admin,
    outsider,
    remove: () => {
      for (const account of [admin, outsider, group]) account?.remove();
    },
  };
}

/**
 * Runs a program as `user` with that user's groups (setpriv --init-groups; node's own
 * spawn({uid}) drops supplementary groups), with a clean environment. Resolves with the result.
 */
export function runAs(
  user: string,
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', file, ...args], {
      env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
