/**
 * The storage provider's files (capsules/storage/README.md): `storage://a/b` is `<root>/files/a/b`,
 * checked one component at a time, never through a link (beneath.ts). Uploads land in
 * `<root>/staging` and are renamed into place on their last chunk, so a reader never sees half
 * a file. Storage's own config and state sit beside `files/`, never inside it.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  type Stats,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { CapsuleError } from '@elastos/capsule-sdk';
import { at, checkName, refusal, withDir } from './beneath.js';
import { Staging } from './staging.js';
import { loadConfig } from './store-config.js';
import { Usage } from './usage.js';

export const MAX_CHUNK = 32 * 1024;
export { DEFAULT_QUOTA } from './store-config.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

export interface Entry {
  name: string;
  size: number;
  dir: boolean;
  /** A symbolic link (planted or restored): listed, never followed; only `delete` touches it. */
  link?: true;
}

export interface StoreOptions {
  /** The clock that ages uploads (tests move it). */
  now?: () => number;
}

/** The segments of a canonical `storage://` resource and whether it names a folder. */
export function segmentsOf(resource: string): { segments: string[]; folder: boolean } {
  const m = /^storage:\/\/(.*)$/.exec(resource);
  if (!m) throw new CapsuleError('E_RESOURCE_INVALID', `not a storage resource: ${resource.slice(0, 200)}`);
  const path = m[1] as string;
  const folder = path === '' || path.endsWith('/');
  const rel = folder ? path.slice(0, -1) : path;
  const segments = rel === '' ? [] : rel.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0')))
    throw new CapsuleError('E_RESOURCE_INVALID', 'bad path segment');
  for (const s of segments) checkName(s);
  return { segments, folder };
}

/** A file resource: its folder's segments and its name; a folder scope names no file. */
function fileOf(resource: string): { dir: string[]; name: string } {
  const { segments, folder } = segmentsOf(resource);
  if (folder || segments.length === 0) throw new CapsuleError('E_RESOURCE_INVALID', 'a folder is not a file');
  return { dir: segments.slice(0, -1), name: segments[segments.length - 1] as string };
}

/** Runs a filesystem step; its errno becomes a coded refusal. */
function fsStep<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw refusal(err, what);
  }
}

export class FileStore {
  readonly files: string;
  readonly usage: Usage;
  private readonly staging: Staging;

  constructor(root: string, options: StoreOptions = {}) {
    this.files = join(root, 'files');
    const config = loadConfig(join(root, 'config.json'));
    for (const d of ['files', 'staging', 'state']) mkdirSync(join(root, d), { recursive: true });
    this.usage = new Usage(join(root, 'state'), config.quotaBytes, config.callerQuotaBytes);
    this.usage.recount(scanFiles(this.files));
    this.staging = new Staging(join(root, 'staging'), this.usage, config.stagingIdleMs, options.now ?? Date.now);
  }

  get quota(): number {
    return this.usage.quota;
  }

  get used(): number {
    return this.usage.used;
  }

  read(resource: string, offset: number, length: number): { data: string; offset: number; size: number; eof: boolean } {
    const { dir, name } = fileOf(resource);
    return fsStep(resource, () =>
      withDir(this.files, dir, false, (folder) => {
        const fd = openSync(at(folder, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
        try {
          const st = fstatSync(fd);
          if (!st.isFile()) throw new CapsuleError('E_NOT_FOUND', `no file ${resource.slice(0, 200)}`);
          const n = Math.max(0, Math.min(length, MAX_CHUNK, st.size - offset));
          const buf = Buffer.alloc(n);
          if (n > 0) readSync(fd, buf, 0, n, offset);
          return { data: buf.toString('base64'), offset, size: st.size, eof: offset + n >= st.size };
        } finally {
          closeSync(fd);
        }
      }),
    );
  }

  /** One chunk of an upload; chunks come in order; `done` puts the file in place. */
  write(caller: string, resource: string, offset: number, data: Buffer, done: boolean): { size: number } {
    const { dir, name } = fileOf(resource);
    if (data.length > MAX_CHUNK) throw new CapsuleError('E_IPC_FRAME', `chunk over ${MAX_CHUNK} bytes`);
    const key = createHash('sha256').update(`${caller}\n${resource}`).digest('hex');
    const part = this.staging.append(caller, key, offset, data);
    if (!done) return { size: part.size };
    fsStep(resource, () =>
      withDir(this.files, dir, true, (folder) => {
        const target = at(folder, name);
        const old = lstatOrUndefined(target);
        if (old?.isDirectory()) throw new CapsuleError('E_RESOURCE_INVALID', `${resource.slice(0, 200)} is a folder`);
        renameSync(part.path, target);
      }),
    );
    this.staging.placed(caller, key);
    this.usage.setFile([...dir, name].join('/'), { caller, size: part.size });
    return { size: part.size };
  }

  list(resource: string): Entry[] {
    const { segments } = segmentsOf(resource);
    const entries = fsStep(resource, () =>
      withDir(this.files, segments, false, (folder) =>
        readdirSync(folder, { withFileTypes: true }).flatMap((e): Entry[] => {
          if (e.isSymbolicLink()) return [{ name: e.name, size: 0, dir: false, link: true }];
          if (e.isDirectory()) return [{ name: e.name, size: 0, dir: true }];
          const st = lstatOrUndefined(at(folder, e.name));
          return st ? [{ name: e.name, size: st.size, dir: false }] : [];
        }),
      ),
    );
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes a file, or a link itself (never what it points to). */
  delete(resource: string): void {
    const { dir, name } = fileOf(resource);
    fsStep(resource, () =>
      withDir(this.files, dir, false, (folder) => {
        const st = lstatSync(at(folder, name));
        if (st.isDirectory()) throw new CapsuleError('E_NOT_FOUND', `no file ${resource.slice(0, 200)}`);
        unlinkSync(at(folder, name));
      }),
    );
    this.usage.setFile([...dir, name].join('/'), undefined);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Regular files under `dir` by relative path, never through a link. */
function scanFiles(dir: string, prefix = '', out = new Map<string, number>()): Map<string, number> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) scanFiles(p, `${prefix}${e.name}/`, out);
    else if (e.isFile()) out.set(`${prefix}${e.name}`, lstatSync(p).size);
  }
  return out;
}
