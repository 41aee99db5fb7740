/**
 * Bundles, packs and signs the first-party capsules (capsules/README.md): esbuild bundles each
 * capsule's compiled entry with the SDK, the contract and its dependencies into one `main.js`
 * (CommonJS: the package has no package.json to say otherwise). Skips a capsule whose bundle,
 * manifest and key are unchanged since its last build.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signPackage } from '@elastos/publisher';
import { build } from 'esbuild';
import { REPO_ROOT } from '../workspaces.js';
import { packDir } from './pack-dir.js';
import { generateKey, type PublisherKey, readSecretKey } from './publisher-key.js';

/** In start order: the policy first, then the providers, then the apps. */
export const FIRST_PARTY = ['shell', 'storage', 'sysinfo', 'notes', 'photo-editor', 'agent'] as const;

export interface BuiltCapsule {
  name: string;
  version: string;
  file: string;
  rebuilt: boolean;
}

/** The dev publisher key in `keyFile` (made on first use; never committed: it lives in the run dir). */
export async function devPublisherKey(keyFile: string): Promise<PublisherKey> {
  if (existsSync(keyFile)) return readSecretKey(keyFile);
  return generateKey('elastos-dev', keyFile);
}

/** Where the trusted core's own code lives: a capsule bundle may hold none of it (only the contract). */
const RUNTIME_CODE = /^runtime\/(?!protocol\/)/;

export interface CapsuleBundle {
  code: Uint8Array;
  /** Every source file esbuild put in the bundle, relative to the repository root. */
  inputs: string[];
}

/**
 * One capsule's compiled entry with the SDK, the contract and its dependencies as one CommonJS
 * `main.js`. A capsule runs confined and sees only its own code dir, so it must be
 * self-contained; it must also hold no code of the trusted core (DESIGN.md "Boundaries"):
 * a bundle that does fails the build, naming the file.
 */
export function bundleCapsule(name: string): Promise<CapsuleBundle> {
  const entry = join(REPO_ROOT, 'capsules', name, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`missing ${entry}: run tsc -b first`);
  return bundleEntry(entry, name);
}

/** `bundleCapsule` for any compiled entry file (`name` labels the error). */
export async function bundleEntry(entry: string, name: string): Promise<CapsuleBundle> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    metafile: true,
    absWorkingDir: REPO_ROOT,
    // Every spawn parses the bundle (seconds under emulation): drop whitespace and dead syntax,
    // keep identifiers so that a capsule's stack traces still name its functions.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild made no output for ${name}`);
  const inputs = Object.keys(out.metafile.inputs);
  const core = inputs.find((path) => RUNTIME_CODE.test(path));
  if (core) throw new Error(`capsule ${name} would bundle runtime code (${core}): import @elastos/protocol instead`);
  return { code: file.contents, inputs };
}

/** Where a capsule's manifest and compiled entry are, for one outside capsules/ (the HIL suite's). */
export interface CapsuleSource {
  manifest: string;
  entry: string;
}

/** Builds one capsule into `outDir/NAME-VERSION.capsule` unless it is up to date (a first-party one unless `src`). */
export async function buildCapsule(
  name: string,
  outDir: string,
  key: PublisherKey,
  src?: CapsuleSource,
): Promise<BuiltCapsule> {
  const manifestBytes = readFileSync(src?.manifest ?? join(REPO_ROOT, 'capsules', name, 'manifest.json'));
  const { code } = src ? await bundleEntry(src.entry, name) : await bundleCapsule(name);
  const stamp = createHash('sha256').update(code).update(manifestBytes).update(key.keyId).digest('hex');
  const { version } = JSON.parse(manifestBytes.toString('utf8')) as { version: string };
  const file = join(outDir, `${name}-${version}.capsule`);
  const stampFile = join(outDir, `.${name}.stamp`);
  if (existsSync(file) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    return { name, version, file, rebuilt: false };
  }
  const stage = join(outDir, '.stage', name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  writeFileSync(join(stage, 'manifest.json'), manifestBytes);
  writeFileSync(join(stage, 'main.js'), code);
  const signed = await signPackage(packDir(stage).bytes, key.secretKey);
  writeFileSync(file, signed);
  writeFileSync(stampFile, stamp);
  return { name, version, file, rebuilt: true };
}

/** Every first-party capsule that has a folder here (the shell's comes with the tokens work). */
export async function buildFirstParty(outDir: string, keyFile: string): Promise<BuiltCapsule[]> {
  mkdirSync(outDir, { recursive: true });
  const key = await devPublisherKey(keyFile);
  const built: BuiltCapsule[] = [];
  for (const name of FIRST_PARTY) {
    if (existsSync(join(REPO_ROOT, 'capsules', name, 'manifest.json')))
      built.push(await buildCapsule(name, outDir, key));
  }
  return built;
}
