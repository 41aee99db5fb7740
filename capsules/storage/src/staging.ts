/**
 * Uploads in progress (capsules/storage/README.md "Uploads"): one part file per caller and
 * resource in `<root>/staging`, counted against the caller's share. Storage's own directory,
 * never served. A start-up finds only abandoned parts (their writers' answers were lost with
 * the old process) and removes them; a part with no chunk for `idleMs` is removed too.
 */
import { closeSync, constants, openSync, readdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CapsuleError } from '@elastos/capsule-sdk';
import { refusal } from './beneath.js';
import type { Usage } from './usage.js';

const { O_WRONLY, O_CREAT, O_TRUNC, O_APPEND, O_NOFOLLOW } = constants;

interface Part {
  caller: string;
  path: string;
  size: number;
  touched: number;
}

export class Staging {
  private readonly parts = new Map<string, Part>();
  private lastSweep = 0;

  constructor(
    private readonly dir: string,
    private readonly usage: Usage,
    private readonly idleMs: number,
    private readonly now: () => number,
  ) {
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  }

  /** Appends a chunk at `offset` (0 starts over); refuses a growth over the caller's share. */
  append(caller: string, key: string, offset: number, data: Buffer): Part {
    this.sweep();
    const have = this.parts.get(key);
    const size = have?.size ?? 0;
    if (offset !== 0 && offset !== size) throw new CapsuleError('E_USAGE', `chunk at ${offset}, expected ${size}`);
    const drop = offset === 0 ? size : 0;
    this.usage.check(caller, data.length - drop);
    const part = have ?? { caller, path: join(this.dir, `${key}.part`), size: 0, touched: 0 };
    const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (offset === 0 ? O_TRUNC : O_APPEND);
    try {
      const fd = openSync(part.path, flags, 0o600);
      try {
        writeSync(fd, data);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw refusal(err, 'upload');
    }
    this.usage.add(caller, data.length - drop);
    part.size = offset + data.length;
    part.touched = this.now();
    this.parts.set(key, part);
    return part;
  }

  /** The part was renamed into place: it no longer counts as staged. */
  placed(caller: string, key: string): void {
    const part = this.parts.get(key);
    if (!part) return;
    this.parts.delete(key);
    this.usage.add(caller, -part.size);
  }

  /** Removes uploads idle longer than `idleMs`; at most once a tenth of that. */
  sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < this.idleMs / 10) return;
    this.lastSweep = now;
    for (const [key, part] of this.parts) {
      if (now - part.touched <= this.idleMs) continue;
      try {
        unlinkSync(part.path);
      } catch {
        // Gone already: the count is what matters.
      }
      this.parts.delete(key);
      this.usage.add(part.caller, -part.size);
    }
  }
}
