import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A tree of installed code to measure: files under `root` named by `include` (files or dirs). */
export interface CodeRoot {
  /** Event type and name, e.g. `runtime.code` / `@elastos/runtime`. */
  type: string;
  name: string;
  root: string;
  include: string[];
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function walk(path: string, out: string[]): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isFile()) out.push(path);
  else if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name), out);
}

/**
 * A sha256sum-style manifest (`<hex>  <relative/path>\n`, sorted by path bytes) of the files
 * under `root` named by `include` (runtime/spec/boot.md §Tree digest). Missing entries add nothing.
 */
export function treeManifest(root: string, include: string[]): string {
  const files: string[] = [];
  for (const entry of include) walk(join(root, entry), files);
  const rows = files.map((f) => [relative(root, f).split(sep).join('/'), f] as const);
  rows.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  return rows.map(([rel, f]) => `${sha256(readFileSync(f))}  ${rel}\n`).join('');
}

/** SHA-256 of the tree's manifest, hex. */
export function treeDigest(root: string, include: string[]): string {
  return sha256(treeManifest(root, include));
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

/**
 * The installed code of the runtime, located from this module (never the git checkout): the
 * runtime package's `dist/` and `package.json`, and the TPM binding's `dist/`, addon and package.json.
 */
export function installedCodeRoots(): CodeRoot[] {
  const runtimeRoot = fileURLToPath(new URL('../../', import.meta.url));
  const bindingEntry = createRequire(import.meta.url).resolve('@elastos/node-tpm2');
  const bindingRoot = join(dirname(bindingEntry), '..');
  return [
    { type: 'runtime.code', name: '@elastos/runtime', root: runtimeRoot, include: ['package.json', 'dist'] },
    {
      type: 'runtime.binding',
      name: '@elastos/node-tpm2',
      root: bindingRoot,
      include: ['package.json', 'dist', 'build/Release/tpm2.node'],
    },
  ];
}
