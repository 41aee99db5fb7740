import { existsSync, readFileSync, statSync } from 'node:fs';
import type { ConsoleProtocol } from '../protocols.js';

/** A console captured to a file (the runtime's stdout and stderr, a QEMU serial log). */
export class FileConsole implements ConsoleProtocol {
  constructor(readonly path: string) {}

  mark(): number {
    return existsSync(this.path) ? statSync(this.path).size : 0;
  }

  private since(from: number): string {
    if (!existsSync(this.path)) return '';
    return readFileSync(this.path).subarray(from).toString('utf8');
  }

  async expect(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.since(from)
        .split('\n')
        .find((line) => pattern.test(line));
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`console: no line matching ${pattern} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  tail(lines: number): string {
    return this.since(0).trimEnd().split('\n').slice(-lines).join('\n');
  }
}
