import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const SSHD = '/usr/sbin/sshd';

export interface SshKey {
  /** Path of the private key file. */
  path: string;
  /** The public key line (`ssh-ed25519 AAAA... comment`). */
  publicKey: string;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => res(port));
    });
  });
}

/**
 * A private OpenSSH sshd (Debian's) on 127.0.0.1 and a free port, with its own host key,
 * config, authorized_keys and pid file under `dir`. Never touches /etc/ssh or the system sshd.
 */
export class Sshd {
  readonly dir: string;
  port = 0;
  private child: ChildProcess | undefined;
  private readonly authorized = new Map<string, string[]>();
  private log = '';

  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(join(this.dir, 'authorized_keys'), { recursive: true });
  }

  /** A new ed25519 key pair for a client. */
  newKey(name: string): SshKey {
    const path = join(this.dir, `key-${name}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
    return { path, publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
  }

  /** Adds one authorized_keys line (options and key) for `user`; call before start(). */
  authorize(user: string, line: string): void {
    this.authorized.set(user, [...(this.authorized.get(user) ?? []), line]);
  }

  /** Starts sshd; `extraConfig` is appended to its config (e.g. a Match block under test). */
  async start(extraConfig = ''): Promise<void> {
    const hostKey = join(this.dir, 'host_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    for (const [user, lines] of this.authorized) {
      writeFileSync(join(this.dir, 'authorized_keys', user), `${lines.join('\n')}\n`);
    }
    chmodSync(this.dir, 0o755); // sshd reads authorized_keys as the user
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // compiled-in privilege separation dir
    this.port = await freePort();
    const config = join(this.dir, 'sshd_config');
    writeFileSync(config, this.config(hostKey) + extraConfig);
    execFileSync(SSHD, ['-t', '-f', config]); // a bad config fails here, with sshd's message
    const host = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(join(this.dir, 'known_hosts'), `[127.0.0.1]:${this.port} ${host}\n`);
    await this.spawn(config);
  }

  private config(hostKey: string): string {
    return [
      `Port ${this.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys', '%u')}`,
      `AllowUsers ${[...this.authorized.keys()].join(' ')}`,
      'UsePAM no',
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      // Forwarding allowed server-wide: the tests show that the key's options stop it.
      'AllowTcpForwarding yes',
      'PrintMotd no',
      'LogLevel VERBOSE',
      '',
    ].join('\n');
  }

  private async spawn(config: string): Promise<void> {
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    const ready = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`sshd did not listen: ${this.log}`)), 10_000);
      child.stderr?.on('data', (d: Buffer) => {
        this.log += d.toString();
        if (this.log.includes(`Server listening on 127.0.0.1 port ${this.port}`)) {
          clearTimeout(timer);
          res();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`sshd exited with ${code}: ${this.log}`));
      });
    });
    await ready;
  }

  /** sshd's own log so far (LogLevel VERBOSE). */
  get serverLog(): string {
    return this.log;
  }

  /** Runs the OpenSSH client against this server as `user` with `key`; `args` go before the host. */
  ssh(key: SshKey, user: string, command: string[], args: string[] = []): Promise<SshResult> {
    const base = ['-F', '/dev/null', '-i', key.path, '-p', String(this.port), '-o', 'IdentitiesOnly=yes'];
    const opts = ['BatchMode=yes', 'StrictHostKeyChecking=yes', `UserKnownHostsFile=${join(this.dir, 'known_hosts')}`];
    const all = [...base, ...opts.flatMap((o) => ['-o', o]), '-o', 'LogLevel=ERROR', ...args, `${user}@127.0.0.1`];
    return new Promise((res) => {
      execFile(
        'ssh',
        [...all, ...(command.length > 0 ? ['--', ...command] : [])],
        { encoding: 'utf8', timeout: 20_000 },
        (err, stdout, stderr) =>
          res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await gone;
  }
}
