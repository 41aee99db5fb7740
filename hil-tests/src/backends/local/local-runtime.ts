import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ELASTOSD } from '@elastos/testkit';
import type { Rig } from '../../rig.js';

/** Waits for `child` to exit, at most `ms`; true when it did. */
function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * elastosd as `npm start` runs it, its stdout and stderr appended to the console file (the
 * local rig's serial console). Its "power" is this process: on = spawn, off = SIGTERM, cut = SIGKILL.
 */
export class LocalRuntime {
  private child: ChildProcess | undefined;
  boots = 0;

  constructor(
    private readonly rig: Rig,
    private readonly configPath: string,
    private readonly consolePath: string,
  ) {}

  get pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  start(): void {
    if (this.pid !== undefined) return;
    const out = openSync(this.consolePath, 'a');
    // Its own process group: a Ctrl-C reaches the rig, which stops the runtime in order.
    this.child = spawn(process.execPath, [ELASTOSD, '--config', this.configPath], {
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    this.boots++;
    this.rig.note(`power on: elastosd pid ${this.child.pid}`);
  }

  /** SIGKILL: the process dies at once (the kernel's page cache keeps what it wrote). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || this.pid === undefined) return;
    this.rig.note(`power cut: kill -9 ${child.pid}`);
    child.kill('SIGKILL');
    if (!(await exited(child, 10_000))) throw new Error(`elastosd ${child.pid} survived SIGKILL for 10 s`);
  }

  /** SIGTERM (an orderly stop: the runtime disarms the watchdog), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.pid === undefined) return;
    this.rig.note(`power off: SIGTERM ${child.pid}`);
    child.kill('SIGCONT'); // a stopped (SIGSTOP) process cannot act on SIGTERM
    child.kill('SIGTERM');
    if (!(await exited(child, 20_000))) await this.kill();
  }
}
