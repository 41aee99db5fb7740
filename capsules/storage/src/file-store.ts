/**
 * The storage provider's files (capsules/storage/README.md): `storage://a/b` is `<root>/files/a/b`.
 * Uploads land in `<root>/staging` and are renamed into place on their last chunk, so a reader
 * never sees half a file. A quota bounds files plus uploads in progress.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { CapsuleError } from '@elastos/capsule-sdk';

export const MAX_CHUNK = 32 * 1024;
export const DEFAULT_QUOTA = 256 * 1024 * 1024;

export interface Entry {
  name: string;
  size: number;
  dir: boolean;
}

function sizeOfTree(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? sizeOfTree(p) : statSync(p).size;
  }
  return total;
}

export class FileStore {
  readonly files: string;
  private readonly staging: string;
  readonly quota: number;
  used: number;

  constructor(root: string) {
    this.files = join(root, 'files');
    this.staging = join(root, 'staging');
    mkdirSync(this.files, { recursive: true });
    mkdirSync(this.staging, { recursive: true });
    const configPath = join(root, 'config.json');
    const config = existsSync(configPath)
      ? (JSON.parse(readFileSync(configPath, 'utf8')) as { quotaBytes?: number })
      : {};
    this.quota = config.quotaBytes ?? DEFAULT_QUOTA;
    this.used = sizeOfTree(this.files) + sizeOfTree(this.staging);
  }

  /** The host path of a canonical `storage://` resource; never outside `files` (defence in depth). */
  pathOf(resource: string): string {
    const m = /^storage:\/\/(.*)$/.exec(resource);
    if (!m) throw new CapsuleError('E_RESOURCE_INVALID', `not a storage resource: ${resource.slice(0, 200)}`);
    const rel = (m[1] as string).replace(/\/$/, '');
    const segments = rel === '' ? [] : rel.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) {
      throw new CapsuleError('E_RESOURCE_INVALID', 'bad path segment');
    }
    const path = join(this.files, ...segments);
    const back = relative(this.files, path);
    if (back.startsWith('..') || back.startsWith(sep)) throw new CapsuleError('E_RESOURCE_INVALID', 'escapes storage');
    return path;
  }

  read(resource: string, offset: number, length: number): { data: string; offset: number; size: number; eof: boolean } {
    const path = this.pathOf(resource);
    const st = this.fileStat(path, resource);
    const n = Math.max(0, Math.min(length, MAX_CHUNK, st.size - offset));
    const buf = Buffer.alloc(n);
    if (n > 0) {
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buf, 0, n, offset);
      } finally {
        closeSync(fd);
      }
    }
    return { data: buf.toString('base64'), offset, size: st.size, eof: offset + n >= st.size };
  }

  /** One chunk of an upload; chunks come in order; `done` puts the file in place. */
  write(caller: string, resource: string, offset: number, data: Buffer, done: boolean): { size: number } {
    const path = this.pathOf(resource);
    if (resource.endsWith('/')) throw new CapsuleError('E_RESOURCE_INVALID', 'cannot write a folder');
    if (data.length > MAX_CHUNK) throw new CapsuleError('E_IPC_FRAME', `chunk over ${MAX_CHUNK} bytes`);
    const part = join(this.staging, `${createHash('sha256').update(`${caller}\n${resource}`).digest('hex')}.part`);
    const have = existsSync(part) ? statSync(part).size : 0;
    if (offset !== 0 && offset !== have) throw new CapsuleError('E_USAGE', `chunk at ${offset}, expected ${have}`);
    const drop = offset === 0 ? have : 0;
    if (this.used - drop + data.length > this.quota) {
      throw new CapsuleError('E_CAPSULE_QUOTA', `quota of ${this.quota} bytes is used up (${this.used} used)`);
    }
    const fd = openSync(part, offset === 0 ? 'w' : 'a');
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    this.used += data.length - drop;
    const size = offset + data.length;
    if (done) {
      const old = existsSync(path) ? statSync(path).size : 0;
      mkdirSync(dirname(path), { recursive: true });
      renameSync(part, path);
      this.used -= old;
    }
    return { size };
  }

  list(resource: string): Entry[] {
    const path = this.pathOf(resource);
    if (!existsSync(path) || !statSync(path).isDirectory())
      throw new CapsuleError('E_NOT_FOUND', `${resource} is not a folder`);
    return readdirSync(path, { withFileTypes: true })
      .map((e) => ({
        name: e.name,
        dir: e.isDirectory(),
        size: e.isDirectory() ? 0 : statSync(join(path, e.name)).size,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  delete(resource: string): void {
    const path = this.pathOf(resource);
    const st = this.fileStat(path, resource);
    unlinkSync(path);
    this.used -= st.size;
  }

  private fileStat(path: string, resource: string): { size: number } {
    const st = existsSync(path) ? statSync(path) : undefined;
    if (!st?.isFile()) throw new CapsuleError('E_NOT_FOUND', `no file ${resource.slice(0, 200)}`);
    return st;
  }
}
