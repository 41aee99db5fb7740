import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { withParentDeathSignal } from './parent-death.js';

const run = promisify(execFile);

/**
 * A private swtpm on a unix socket (FACTS.md: the `swtpm:path=` TCTI, not `mssim:`).
 * Its state lives in `dir`, so a restart keeps the TPM's seeds, NV and counters.
 */
export class Swtpm {
  private child: ChildProcess | undefined;
  readonly socket: string;
  readonly ctrl: string;

  /** `parentDeathSignal`: the TPM gets it when its starter dies, even by kill -9 (`npm start`). */
  constructor(
    readonly dir: string,
    private readonly options: { parentDeathSignal?: NodeJS.Signals } = {},
  ) {
    this.dir = resolve(dir);
    this.socket = join(this.dir, 'sock');
    this.ctrl = join(this.dir, 'sock.ctrl');
  }

  /** The TCTI string for tpm2-tss and tpm2-tools. */
  get tcti(): string {
    return `swtpm:path=${this.socket}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'state'), { recursive: true });
    // A socket left by a killed swtpm would pass for the new one's before it listens.
    rmSync(this.socket, { force: true });
    rmSync(this.ctrl, { force: true });
    const [file, args] = withParentDeathSignal(this.options.parentDeathSignal, 'swtpm', [
      'socket',
      '--tpm2',
      '--tpmstate',
      `dir=${join(this.dir, 'state')}`,
      '--server',
      `type=unixio,path=${this.socket}`,
      '--ctrl',
      `type=unixio,path=${this.ctrl}`,
      '--flags',
      'not-need-init,startup-clear',
    ]);
    const child = spawn(
      file,
      args,
      // Own process group: a Ctrl-C at the terminal must not kill the TPM before the runtime's last
      // audit checkpoint is anchored; the owner stops it gracefully, last.
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`swtpm exited with ${code}: ${stderr.trim()}`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + 10_000;
    while (!existsSync(this.socket) || !existsSync(this.ctrl)) {
      if (Date.now() > deadline) throw new Error(`swtpm did not create ${this.socket}`);
      await Promise.race([new Promise((r) => setTimeout(r, 20)), exited]);
    }
    // Dev and tests only: killed clients must not lock the TPM out (FACTS.md).
    await this.tpm2('tpm2_dictionarylockout', ['-s', '-n', '1000', '-t', '1', '-l', '1']);
  }

  /** Runs a tpm2-tools command against this TPM. */
  async tpm2(tool: string, args: string[]): Promise<string> {
    const { stdout } = await run(tool, ['-T', this.tcti, ...args], { encoding: 'utf8' });
    return stdout;
  }

  /**
   * Transient objects and sessions (loaded or saved) present in the TPM. Without a resource
   * manager nothing is flushed for a client, so anything listed here after a client closed leaked.
   */
  async leakedHandles(): Promise<string[]> {
    const found: string[] = [];
    for (const cap of ['handles-transient', 'handles-loaded-session', 'handles-saved-session']) {
      const out = await this.tpm2('tpm2_getcap', [cap]);
      for (const h of out.match(/0x[0-9a-f]+/gi) ?? []) found.push(`${cap}:${h}`);
    }
    return found;
  }

  /** Throws when any transient object or session is left in the TPM. */
  async assertNoLeaks(): Promise<void> {
    const leaked = await this.leakedHandles();
    if (leaked.length > 0) throw new Error(`TPM handles leaked: ${leaked.join(', ')}`);
  }

  /** Graceful stop through the control channel; a kill would raise the lockout counter. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      await run('swtpm_ioctl', ['-s', '--unix', this.ctrl]);
    } catch {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
    this.child = undefined;
  }
}
