/**
 * Each capsule's stdout and stderr, one bounded file per capsule under `<stateDir>/logs/capsules`
 * (`elastos capsule logs NAME [-f]`). A file over `maxBytes` is rotated once to `NAME.log.1`,
 * so a chatty capsule holds at most twice that on disk.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NAME_PATTERN } from '@elastos/protocol/capsules/manifest';
import { ElastosError } from '../errors/index.js';

export interface LogChunk {
  /** Byte offset to ask from next time (`-f`); it restarts at 0 after a rotation. */
  next: number;
  lines: string[];
  /** The file was rotated since `after`: some lines may have been skipped. */
  rotated: boolean;
}

/** Control characters (other than tab) as `\xNN`, so that a capsule cannot forge log lines. */
function escapeControls(line: string): string {
  let out = '';
  for (const ch of line) {
    const c = ch.charCodeAt(0);
    out += (c < 0x20 && c !== 0x09) || c === 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

export class CapsuleLogs {
  private readonly sizes = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly maxBytes = 1024 * 1024,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  }

  pathOf(name: string): string {
    if (!new RegExp(NAME_PATTERN).test(name))
      throw new ElastosError('E_USAGE', `bad capsule name ${name.slice(0, 64)}`);
    return join(this.dir, `${name}.log`);
  }

  /** One line of output; lines are cut at 4 KiB, control characters escaped, so one line stays one line. */
  append(name: string, stream: 'stdout' | 'stderr', line: string): void {
    const path = this.pathOf(name);
    const clean = escapeControls(line.slice(0, 4096));
    const text = `${new Date().toISOString()} ${stream === 'stderr' ? 'ERR' : 'OUT'} ${clean}\n`;
    let size = this.sizes.get(name) ?? (existsSync(path) ? statSync(path).size : 0);
    if (size + text.length > this.maxBytes) {
      renameSync(path, `${path}.1`);
      size = 0;
    }
    appendFileSync(path, text, { mode: 0o640 });
    this.sizes.set(name, size + Buffer.byteLength(text));
  }

  /** The last `lines` lines, or (with `after`) what was written since that offset. */
  read(name: string, opts: { lines?: number; after?: number } = {}): LogChunk {
    const path = this.pathOf(name);
    if (!existsSync(path)) return { next: 0, lines: [], rotated: false };
    const size = statSync(path).size;
    const rotated = opts.after !== undefined && opts.after > size;
    const from = opts.after === undefined || rotated ? Math.max(0, size - 256 * 1024) : opts.after;
    const buf = Buffer.alloc(size - from);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    let lines = buf.toString('utf8').split('\n');
    lines.pop();
    if (from > 0 && from !== opts.after) lines.shift(); // a cut first line
    if (opts.after === undefined) lines = lines.slice(-(opts.lines ?? 50));
    return { next: size, lines, rotated };
  }
}
