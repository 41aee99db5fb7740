/**
 * What the runtime loads or executes, as files to measure (runtime/spec/boot.md §2.1): its own
 * package and every package in its production dependency closure, found by Node's own lookup
 * (node_modules upwards from each package, symlinks resolved), so the same rule covers the
 * repo's hoisted workspaces and an image's installed tree; and the executables it runs.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { ElastosError } from '../errors/index.js';

/** One file in a measured set: its name in the manifest and where it is read from. */
export interface MeasuredFile {
  name: string;
  path: string;
}

/** A set of files measured as one event (`runtime.code`, `runtime.exec`, ...), listed when measured. */
export interface CodeSet {
  type: string;
  name: string;
  files: () => MeasuredFile[];
}

interface PackageJson {
  name?: string;
  version?: string;
  files?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Regular files under `path` (links followed), one stat per link or top entry, none per plain file. */
function walk(path: string, out: string[], skipNodeModules: boolean): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isFile()) out.push(path);
  else if (st.isDirectory()) walkDir(path, out, skipNodeModules);
}

function walkDir(dir: string, out: string[], skipNodeModules: boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipNodeModules && entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isFile()) out.push(path);
    else if (entry.isDirectory()) walkDir(path, out, skipNodeModules);
    else if (entry.isSymbolicLink()) walk(path, out, skipNodeModules);
  }
}

/** The regular files under `root` named by `include` (files or dirs), named relative to `root` with `prefix`. */
export function rootFiles(root: string, include: string[], prefix = '', skipNodeModules = false): MeasuredFile[] {
  const paths: string[] = [];
  for (const entry of include) walk(join(root, entry), paths, skipNodeModules);
  return paths.map((p) => ({ name: prefix + relative(root, p).split(sep).join('/'), path: p }));
}

function readPackage(dir: string): PackageJson {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch (cause) {
    throw new ElastosError('E_BOOT_MEASURE', `cannot read ${join(dir, 'package.json')}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** Node's lookup of a bare specifier's package: `node_modules/<name>` from `from` upwards; the real path. */
function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * A package's files: package.json and its `files` entries when it declares them (what npm
 * installs of it), else every file under it but nested `node_modules` (those are packages of
 * their own, measured when the closure reaches them).
 */
function packageFiles(dir: string, pkg: PackageJson): MeasuredFile[] {
  const prefix = `${pkg.name ?? '?'}@${pkg.version ?? '?'}/`;
  const include = pkg.files ? ['package.json', ...pkg.files] : ['.'];
  return rootFiles(dir, include, prefix, true);
}

/** Every package the runtime at `root` can load: itself and its dependencies', transitively. */
export function dependencyClosure(root: string): Array<{ dir: string; pkg: PackageJson }> {
  const seen = new Map<string, PackageJson>();
  const queue = [realpathSync(root)];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (seen.has(dir)) continue;
    const pkg = readPackage(dir);
    seen.set(dir, pkg);
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      const found = findPackage(name, dir);
      if (!found) throw new ElastosError('E_BOOT_MEASURE', `${pkg.name} depends on ${name}, which is not installed`);
      queue.push(found);
    }
    // An optional dependency that is not installed is never loaded.
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
      const found = findPackage(name, dir);
      if (found) queue.push(found);
    }
  }
  return [...seen].map(([dir, pkg]) => ({ dir, pkg }));
}

/** The runtime's code: its package and its whole production dependency closure. */
export function closureFiles(root: string): MeasuredFile[] {
  return dependencyClosure(root).flatMap(({ dir, pkg }) => packageFiles(dir, pkg));
}

/** Executables the runtime runs beside its packages: Node itself, and what config names outside the package. */
export function executableFiles(paths: readonly string[]): MeasuredFile[] {
  const real = [...new Set(paths.filter((p) => p !== '').map((p) => realpathSync(p)))];
  return real.map((path) => ({ name: `exec:${path}`, path }));
}
