/**
 * Build stages cached by their inputs. A stage's output lives in `out/cache/<name>-<key>/`
 * where `key` hashes everything the stage reads (scripts, package lists, versions, files);
 * a `.done` marker is written last, so an interrupted stage is rebuilt, never half-reused.
 * Each stage prints its progress and its time.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface StageTiming {
  name: string;
  cached: boolean;
  seconds: number;
}

export const say = (line: string) => process.stdout.write(`[image] ${line}\n`);

/** SHA-256 hex of strings and buffers, in order, each length-prefixed (no ambiguity). */
export function hashOf(parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p) : p;
    h.update(`${b.length}:`).update(b);
  }
  return h.digest('hex');
}

/** Every regular file under `dir` (sorted, relative with '/'), for hashing a source tree. */
export function listFiles(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p).split(sep).join('/');
      if (skip(rel)) continue;
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

/** Hash of a tree's file names and contents. */
export function hashTree(dir: string, skip?: (rel: string) => boolean): string {
  return hashOf(listFiles(dir, skip).flatMap((rel) => [rel, readFileSync(join(dir, rel))]));
}

export class StageRunner {
  readonly timings: StageTiming[] = [];
  constructor(readonly cacheDir: string) {
    mkdirSync(cacheDir, { recursive: true });
  }

  /**
   * Runs `build(dir)` unless `<name>-<key>` is done; returns the stage's directory. Older
   * outputs of the same stage are removed once the new one is done (the cache stays bounded).
   */
  async run(name: string, key: string, build: (dir: string) => Promise<void> | void): Promise<string> {
    const dir = join(this.cacheDir, `${name}-${key.slice(0, 16)}`);
    const started = Date.now();
    if (existsSync(join(dir, '.done'))) {
      this.timings.push({ name, cached: true, seconds: 0 });
      say(`stage ${name}: cached (${key.slice(0, 16)})`);
      return dir;
    }
    say(`stage ${name}: building (${key.slice(0, 16)})`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await build(dir);
    writeFileSync(join(dir, '.done'), `${key}\n`);
    const seconds = (Date.now() - started) / 1000;
    this.timings.push({ name, cached: false, seconds });
    say(`stage ${name}: done in ${seconds.toFixed(1)} s`);
    this.prune(name, dir);
    return dir;
  }

  private prune(name: string, keep: string): void {
    for (const entry of readdirSync(this.cacheDir)) {
      const p = join(this.cacheDir, entry);
      if (p !== keep && entry.startsWith(`${name}-`) && /^[0-9a-f]{16}$/.test(entry.slice(name.length + 1))) {
        rmSync(p, { recursive: true, force: true });
      }
    }
  }
}
