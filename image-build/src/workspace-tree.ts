/**
 * The runtime as installed on the box, from the npm workspaces: which workspaces (discovered
 * from the root package.json, never a hard-coded list), their third-party production
 * dependencies (npm ci from the lockfile, for the target's os/cpu), and each workspace's
 * package.json, bin/ and dist/ without tests. Nothing of the git checkout is needed on the box.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArchProfile } from './arch.js';
import { require0, tail } from './rootfs.js';
import { hashOf, type StageRunner } from './stage.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What the box runs: the daemon, the CLI and the MCU bridge (loaded by the runtime only when a
 * serial device is configured, so no package.json names it). Their workspace dependencies
 * (e.g. @elastos/node-tpm2, @elastos/protocol) are added by `boxWorkspaces`.
 */
export const BOX_ROOTS = ['@elastos/runtime', '@elastos/scripts', '@elastos/firmware-bridge'];

export interface Workspace {
  name: string;
  dir: string;
  pkg: { name: string; dependencies?: Record<string, string>; bin?: Record<string, string>; files?: string[] };
}

export function allWorkspaces(): Workspace[] {
  const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return root.workspaces.map((dir) => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as Workspace['pkg'];
    return { name: pkg.name, dir, pkg };
  });
}

/** BOX_ROOTS and every workspace their production dependencies reach, sorted by name. */
export function boxWorkspaces(all = allWorkspaces()): Workspace[] {
  const byName = new Map(all.map((w) => [w.name, w]));
  const seen = new Set<string>();
  const visit = (name: string) => {
    const w = byName.get(name);
    if (!w || seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys(w.pkg.dependencies ?? {})) visit(dep);
  };
  for (const r of BOX_ROOTS) visit(r);
  return [...seen].sort().map((n) => byName.get(n) as Workspace);
}

/** What of a workspace goes on the box: its package.json, bin/ and dist/ without tests, maps and types. */
export function shipped(rel: string): boolean {
  if (rel === '' || rel === 'package.json' || rel === 'bin' || rel.startsWith('bin/')) return true;
  if (rel !== 'dist' && !rel.startsWith('dist/')) return false;
  return !/(\.test\.js|\.bench\.js|\.map|\.d\.ts|\.tsbuildinfo)$/.test(rel) && !/\/(fixtures|testing)(\/|$)/.test(rel);
}

function copyWorkspace(w: Workspace, dest: string): void {
  const src = join(REPO_ROOT, w.dir);
  cpSync(src, dest, {
    recursive: true,
    filter: (s) => shipped(s === src ? '' : s.slice(src.length + 1)),
  });
  // Data the package declares (e.g. the launcher's seccomp tables); built files come from "native".
  for (const rel of shippedData(w)) cpSync(join(src, rel), join(dest, rel), { recursive: true });
}

/** The package's `files` entries that are neither code (bin/, dist/) nor a native build's output. */
export function shippedData(w: Workspace): string[] {
  return (w.pkg.files ?? []).filter((f) => !shipped(f) && !f.split('/').includes('build'));
}

/**
 * Every file a box workspace declares (its `files`: what the runtime measures and loads) must be
 * in the tree: a file the runtime loads but the image lacks stops it at start, on the box.
 */
export function missingDeclaredFiles(modulesDir: string, box: Workspace[]): string[] {
  return box.flatMap((w) =>
    (w.pkg.files ?? []).map((f) => join(w.name, f)).filter((rel) => !existsSync(join(modulesDir, rel))),
  );
}

/** Stage "modules": the third-party production dependencies for the target (no workspaces). */
export async function buildModules(stages: StageRunner, p: ArchProfile, box: Workspace[]): Promise<string> {
  const all = allWorkspaces();
  const lock = readFileSync(join(REPO_ROOT, 'package-lock.json'));
  const key = hashOf([p.arch, lock, ...all.map((w) => JSON.stringify(w.pkg)), ...box.map((w) => w.name)]);
  return stages.run(`modules-${p.arch}`, key, (dir) => {
    cpSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
    cpSync(join(REPO_ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
    for (const w of all) {
      mkdirSync(join(dir, w.dir), { recursive: true });
      cpSync(join(REPO_ROOT, w.dir, 'package.json'), join(dir, w.dir, 'package.json'));
    }
    const cpu = p.arch === 'arm64' ? 'arm64' : 'x64';
    const args = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
    args.push('--os=linux', `--cpu=${cpu}`, '--libc=glibc', ...box.flatMap((w) => ['-w', w.dir]));
    const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8' });
    require0(r.status, `npm ci (production, ${p.arch}): ${tail(`${r.stdout}${r.stderr}`)}`);
    // The workspaces arrive as links into this staging dir; the real ones are copied later.
    rmSync(join(dir, 'node_modules', '@elastos'), { recursive: true, force: true });
  });
}

/** The native stage's outputs (stages/native.sh) and where each goes: package, path in it. */
export const NATIVE_FILES: Record<string, readonly [string, string]> = {
  'tpm2.node': ['@elastos/node-tpm2', 'build/Release/tpm2.node'],
  'peercred.node': ['@elastos/runtime', 'native/peercred/build/Release/peercred.node'],
  'harden.node': ['@elastos/runtime', 'native/harden/build/Release/harden.node'],
  'elastos-launch': ['@elastos/runtime', 'launcher/build/elastos-launch'],
};

/**
 * /usr/lib/elastos of the image: node_modules with the dependencies and the box workspaces as
 * real directories, plus the natively built files at their places.
 */
export function installRuntime(dest: string, modules: string, box: Workspace[], native: string): void {
  mkdirSync(dest, { recursive: true });
  cpSync(join(modules, 'node_modules'), join(dest, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  for (const w of box) copyWorkspace(w, join(dest, 'node_modules', w.name));
  for (const [file, [pkg, rel]] of Object.entries(NATIVE_FILES)) {
    const to = join(dest, 'node_modules', pkg, rel);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(native, file), to);
  }
  const missing = missingDeclaredFiles(join(dest, 'node_modules'), box);
  require0(missing.length === 0 ? 0 : 1, `declared by their packages but not in the image: ${missing.join(', ')}`);
  const names = box.map((w) => w.name);
  writeFileSync(
    join(dest, 'package.json'),
    `${JSON.stringify({ name: 'elastos-box', private: true, type: 'module', workspacesInstalled: names }, null, 2)}\n`,
  );
  if (!existsSync(join(dest, 'node_modules', '@elastos', 'runtime', 'dist'))) {
    require0(1, 'the runtime is not built: run `npm run build` first');
  }
}
