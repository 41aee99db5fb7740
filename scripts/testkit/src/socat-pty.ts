import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { withParentDeathSignal } from './parent-death.js';

/**
 * A real pty pair through socat (FACTS.md): `host` and `mcu` are symlinks to the two slave ends,
 * raw and without echo. `stop()` is an unplug (both ends hang up); `start()` again is a replug
 * at the same paths.
 */
export class SocatPtyPair {
  private child: ChildProcess | undefined;
  readonly host: string;
  readonly mcu: string;

  /** `parentDeathSignal`: socat gets it when its starter dies, even by kill -9 (`npm start`). */
  constructor(
    readonly dir: string,
    private readonly options: { parentDeathSignal?: NodeJS.Signals } = {},
  ) {
    this.dir = resolve(dir);
    this.host = join(this.dir, 'host');
    this.mcu = join(this.dir, 'mcu');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    rmSync(this.host, { force: true });
    rmSync(this.mcu, { force: true });
    const ends = [`pty,raw,echo=0,link=${this.host}`, `pty,raw,echo=0,link=${this.mcu}`];
    const [file, args] = withParentDeathSignal(this.options.parentDeathSignal, 'socat', ends);
    const child = spawn(file, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      // Own process group: a Ctrl-C at the terminal reaches the runtime, which stops first; we stop after it.
      detached: true,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`socat exited with ${code}: ${stderr.trim()}`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + 5000;
    while (!existsSync(this.host) || !existsSync(this.mcu)) {
      if (Date.now() > deadline) throw new Error(`socat did not create ${this.host}`);
      await Promise.race([new Promise((r) => setTimeout(r, 10)), exited]);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }
}
