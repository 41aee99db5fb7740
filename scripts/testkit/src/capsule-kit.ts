import { copyFileSync, mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The hostile test capsule (capsules/hostile-capsule.ts), compiled. */
export const HOSTILE_CAPSULE = fileURLToPath(new URL('./capsules/hostile-capsule.js', import.meta.url));

/** A capsule's host dirs under `root`: `code/` holding the hostile capsule as main.mjs, and `data/`. */
export function makeCapsuleDirs(root: string, name: string): { codeDir: string; dataDir: string; entry: string } {
  const codeDir = join(root, name, 'code');
  const dataDir = join(root, name, 'data');
  mkdirSync(codeDir, { recursive: true, mode: 0o755 });
  mkdirSync(dataDir, { recursive: true });
  copyFileSync(HOSTILE_CAPSULE, join(codeDir, 'main.mjs'));
  return { codeDir, dataDir, entry: 'main.mjs' };
}

/** Reads newline-delimited JSON from a socket (the test capsule's own convention). */
export class LineReader {
  private buf = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;

  constructor(socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.waiter?.();
    });
    const end = () => {
      this.ended = true;
      this.waiter?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** The next JSON line; rejects on timeout or when the socket ends first. */
  async next<T = Record<string, unknown>>(timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) throw new Error('channel closed before a message');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a capsule message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
    return JSON.parse(this.lines.shift() ?? '') as T;
  }
}
