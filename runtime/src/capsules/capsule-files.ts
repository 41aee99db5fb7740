/**
 * The installed capsule on disk (runtime/spec/capsule-package.md §7):
 * `<root>/<id>/manifest.json`, `<root>/<id>/signature`, `<root>/<id>/code/…`, all read-only.
 * Writing is atomic per version (staging folder + rename); reading walks the tree exactly, so
 * an added, removed or changed file changes the content hash.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { PackageContent } from '@elastos/protocol/capsules/package-codec';
import { ElastosError } from '../errors/index.js';

export interface StoredVersion extends PackageContent {
  signature: Uint8Array | undefined;
}

function writeDurable(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'wx', 0o444);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Directories under `dir` deepest first, then `dir` itself. */
function dirsDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (lstatSync(path).isDirectory()) out.push(...dirsDeepestFirst(path));
  }
  out.push(dir);
  return out;
}

/** Removes a tree whose folders may be read-only. */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const d of dirsDeepestFirst(dir)) chmodSync(d, 0o755);
  rmSync(dir, { recursive: true, force: true });
}

/** Unpacks a verified version into `<root>/<id>` (replacing a stale copy) and makes it read-only. */
export function writeVersion(root: string, id: string, content: PackageContent, signature: Uint8Array): string {
  const staging = join(root, `.staging-${randomBytes(6).toString('hex')}`);
  mkdirSync(join(staging, 'code'), { recursive: true, mode: 0o755 });
  try {
    writeDurable(join(staging, 'manifest.json'), content.manifest);
    writeDurable(join(staging, 'signature'), signature);
    for (const [path, bytes] of content.files) {
      const target = join(staging, 'code', path);
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      writeDurable(target, bytes);
    }
    for (const d of dirsDeepestFirst(staging)) chmodSync(d, 0o555);
    const final = join(root, id);
    removeTree(final);
    renameSync(staging, final);
    return final;
  } catch (err) {
    removeTree(staging);
    throw err;
  }
}

function readCode(dir: string, prefix: string, files: Map<string, Uint8Array>): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    const stat = lstatSync(path);
    if (stat.isDirectory()) readCode(path, rel, files);
    else if (stat.isFile()) files.set(rel, new Uint8Array(readFileSync(path)));
    else throw new ElastosError('E_CAPSULE_HASH', `${rel} is not a regular file`);
  }
}

/** Reads an installed version back exactly as it is on disk (for boot-time re-verification). */
export function readVersion(versionDir: string): StoredVersion {
  try {
    const files = new Map<string, Uint8Array>();
    readCode(join(versionDir, 'code'), '', files);
    const signature = new Uint8Array(readFileSync(join(versionDir, 'signature')));
    return { manifest: new Uint8Array(readFileSync(join(versionDir, 'manifest.json'))), files, signature };
  } catch (err) {
    if (err instanceof ElastosError) throw err;
    throw new ElastosError(
      'E_CAPSULE_HASH',
      `installed copy at ${versionDir} is unreadable: ${(err as Error).message}`,
    );
  }
}
