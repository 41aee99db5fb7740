import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../simulator/main.js', import.meta.url));

/** The simulator as its own process (`simulator/main.js`): a stall of the test's event loop does not stop it. */
export class SimProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  private child: ChildProcess | undefined;

  async start(port: string, args: string[] = []): Promise<void> {
    const child = spawn(process.execPath, [MAIN, '--port', port, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    child.stdin?.on('error', () => undefined); // a simulator that exited: its pipe is gone, say nothing
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    await this.waitFor((l) => l.event === 'ready', 10_000);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  send(cmd: Record<string, unknown>): void {
    this.child?.stdin?.write(`${JSON.stringify(cmd)}\n`);
  }

  async waitFor(pred: (line: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`simulator said nothing matching within ${ms} ms`);
      if (this.child?.exitCode != null) throw new Error(`simulator exited with ${this.child.exitCode}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}
