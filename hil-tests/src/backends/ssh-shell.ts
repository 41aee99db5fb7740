import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Follower, Run, ShellProtocol } from '../protocols.js';
import type { Rig } from '../rig.js';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  key: string;
  knownHosts: string;
  /** `yes` (a pinned host key) or `accept-new` (a box that makes its host key at first boot). */
  hostKeyChecking?: 'yes' | 'accept-new';
}

/** Runs a program to its end within `timeoutMs` (killed after it); never rejects. */
export function runBounded(file: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      resolve({ code, stdout, stderr: e?.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
    });
  });
}

/** The OpenSSH client's arguments for `target` (batch mode, pinned host key, no config file). */
export function sshArgs(t: SshTarget): string[] {
  const opts = [
    'BatchMode=yes',
    `StrictHostKeyChecking=${t.hostKeyChecking ?? 'yes'}`,
    `UserKnownHostsFile=${t.knownHosts}`,
    'ConnectTimeout=10',
  ];
  return [
    '-F',
    '/dev/null',
    '-i',
    t.key,
    '-p',
    String(t.port),
    '-o',
    'IdentitiesOnly=yes',
    ...opts.flatMap((o) => ['-o', o]),
    '-o',
    'LogLevel=ERROR',
    `${t.user}@${t.host}`,
  ];
}

/**
 * The shell protocol over SSH: `elastos` through the restricted admin key; root through
 * `root` (a function: the lab's maintenance key on a box, this machine's own root for local).
 */
export class SshShell implements ShellProtocol {
  constructor(
    private readonly rig: Rig,
    private readonly admin: SshTarget,
    private readonly rootRun: (argv: string[], timeoutMs: number) => Promise<Run>,
    /** An emulated box under load needs minutes for one CLI start (Node under TCG). */
    private readonly defaultTimeoutMs = 60_000,
  ) {}

  elastos(args: string[], timeoutMs = this.defaultTimeoutMs): Promise<Run> {
    this.rig.note(`ssh elastos ${args.join(' ')}`);
    return runBounded('ssh', [...sshArgs(this.admin), '--', 'elastos', ...args], timeoutMs);
  }

  tryRaw(command: string): Promise<Run> {
    this.rig.note(`ssh (raw) ${command}`);
    return runBounded('ssh', [...sshArgs(this.admin), '--', command], this.defaultTimeoutMs);
  }

  root(argv: string[], timeoutMs = 60_000): Promise<Run> {
    this.rig.note(`root ${argv.join(' ')}`);
    return this.rootRun(argv, timeoutMs);
  }

  async hangRuntime(pid: number): Promise<void> {
    await this.mustRoot(['kill', '-STOP', String(pid)]);
  }

  async alterCapsule(stateDir: string, name: string): Promise<void> {
    if (!/^[a-z0-9-]+$/.test(name)) throw new RangeError(`bad capsule name ${name}`);
    const files = `${stateDir}/capsules/${name}/*/code/main.js`;
    await this.mustRoot(['sh', '-c', `for f in ${files}; do printf '\\n// tampered by the HIL rig\\n' >> "$f"; done`]);
  }

  private async mustRoot(argv: string[]): Promise<void> {
    const r = await this.root(argv);
    if (r.code !== 0) throw new Error(`as root: ${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  }

  follow(args: string[]): Follower {
    this.rig.note(`ssh elastos ${args.join(' ')} (following)`);
    const child: ChildProcess = spawn('ssh', [...sshArgs(this.admin), '--', 'elastos', ...args], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines: string[] = [];
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => lines.push(l));
    return {
      lines,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      },
    };
  }
}
