/** The admin's side of SSH to the box: Debian's ssh client, a throw-away key, bounded calls. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SshAnswer {
  code: number;
  stdout: string;
  stderr: string;
}

/** Makes an ed25519 key pair at `dir/admin` (public half `dir/admin.pub`). */
export async function makeAdminKey(dir: string): Promise<string> {
  const key = join(dir, 'admin');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'image-test', '-f', key]);
  return key;
}

export class SshClient {
  constructor(
    readonly port: number,
    readonly key: string,
    readonly user = 'admin',
  ) {}

  /** Runs `words` on the box (the wrapper allows `elastos ...` only); never throws on exit status. */
  async run(words: string[], timeoutMs = 120_000): Promise<SshAnswer> {
    const args = ['-i', this.key, '-p', String(this.port), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'];
    args.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR');
    args.push('-o', 'ConnectTimeout=10', `${this.user}@127.0.0.1`, ...words);
    try {
      const r = await run('ssh', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 255,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? String(err),
      };
    }
  }

  /** `elastos --json ARGS` on the box, parsed; throws with its stderr if it failed. */
  async elastosJson<T>(args: string[], timeoutMs?: number): Promise<T> {
    const r = await this.run(['elastos', '--json', ...args], timeoutMs);
    if (r.code !== 0)
      throw new Error(`elastos ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return JSON.parse(r.stdout) as T;
  }
}
