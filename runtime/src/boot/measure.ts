import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ElastosError } from '../errors/index.js';
import { type CodeSet, closureFiles, executableFiles, type MeasuredFile, rootFiles } from './code-set.js';

export type { CodeSet, MeasuredFile } from './code-set.js';

const STREAM_ABOVE = 1 << 20;
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

const byName = (a: MeasuredFile, b: MeasuredFile) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
const rows = (files: MeasuredFile[], hashes: string[]) => files.map((f, i) => `${hashes[i]}  ${f.name}\n`).join('');

/**
 * A sha256sum-style manifest (`<hex>  <relative/path>\n`, sorted by path bytes) of the files
 * under `root` named by `include` (runtime/spec/boot.md §2.1). Missing entries add nothing.
 */
export function treeManifest(root: string, include: string[]): string {
  const files = rootFiles(root, include).sort(byName);
  return rows(
    files,
    files.map((f) => sha256(readFileSync(f.path))),
  );
}

/** SHA-256 of the tree's manifest, hex. */
export function treeDigest(root: string, include: string[]): string {
  return sha256(treeManifest(root, include));
}

const fail = (path: string, cause: Error) =>
  new ElastosError('E_BOOT_MEASURE', `cannot measure ${path}: ${cause.message}`, { cause });

/** SHA-256 of a large file, streamed (the Node binary is ~100 MB). */
function hashStream(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => h.update(chunk))
      .on('error', (cause) => reject(fail(path, cause)))
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * SHA-256 of one file. Most of the set is small files, which one synchronous read hashes
 * several times faster than the thread pool (boot waits for the digest anyway).
 */
async function hashFile(path: string): Promise<string> {
  try {
    if (statSync(path).size > STREAM_ABOVE) return await hashStream(path);
    return sha256(readFileSync(path));
  } catch (cause) {
    throw cause instanceof ElastosError ? cause : fail(path, cause as Error);
  }
}

/** The manifest of a set of files (same format as treeManifest). */
export async function setManifest(set: readonly MeasuredFile[]): Promise<string> {
  const files = [...set].sort(byName);
  const hashes = new Array<string>(files.length);
  for (let i = 0; i < files.length; i++) hashes[i] = await hashFile((files[i] as MeasuredFile).path);
  return rows(files, hashes);
}

export async function setDigest(set: readonly MeasuredFile[]): Promise<string> {
  return sha256(await setManifest(set));
}

/** JSON with object keys sorted, no whitespace: the same config always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    const obj = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The effective config (defaults filled, paths resolved) as measured: SHA-256 of its canonical JSON. */
export function configDigest(config: unknown): string {
  return sha256(canonicalJson(config));
}

/** The installed runtime package's directory, located from this module (never the git checkout). */
export const runtimePackageDir = (): string => fileURLToPath(new URL('../../', import.meta.url));

/**
 * What the runtime loads or executes (runtime/spec/boot.md §2): `runtime.code`, its package and
 * production dependency closure (launcher, addons, entry script included); `runtime.exec`, the
 * Node binary it runs on and, when config names them, the capsules' Node and the launcher.
 */
export function installedCodeSets(
  confine: { launcher: string; nodePath: string } = { launcher: '', nodePath: '' },
  root: string = runtimePackageDir(),
): CodeSet[] {
  return [
    { type: 'runtime.code', name: '@elastos/runtime', files: () => closureFiles(root) },
    {
      type: 'runtime.exec',
      name: `node ${process.version}`,
      files: () => executableFiles([process.execPath, confine.nodePath, confine.launcher]),
    },
  ];
}

/** A tree as a code set (tests, and the trust store). */
export const treeSet = (type: string, name: string, root: string, include: string[]): CodeSet => ({
  type,
  name,
  files: () => rootFiles(root, include),
});
