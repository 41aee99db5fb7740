/**
 * Bundles, packs and signs the first-party capsules (capsules/README.md). A capsule runs
 * confined and sees only its own code dir, so its package must be self-contained: esbuild
 * bundles each capsule's compiled entry with the SDK and its dependencies into one `main.js`
 * (CommonJS: the package has no package.json to say otherwise). Skips a capsule whose bundle,
 * manifest and key are unchanged since its last build.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signPackage } from '@elastos/runtime';
import { build, type Plugin } from 'esbuild';
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

/**
 * A capsule may take the error table from the runtime package, never the trusted core itself
 * (its store, TPM binding and launcher paths mean nothing inside a capsule, and would not load):
 * the bare `@elastos/runtime` resolves to its errors module, so importing anything else from it
 * fails the build loudly. Deep imports of self-contained modules (`@elastos/runtime/broker/frame`)
 * resolve as usual.
 */
const runtimeErrorsOnly: Plugin = {
  name: 'runtime-errors-only',
  setup(b) {
    b.onResolve({ filter: /^@elastos\/runtime$/ }, () => ({
      path: join(REPO_ROOT, 'runtime', 'dist', 'errors', 'index.js'),
    }));
  },
};

/** Where a capsule's manifest and compiled entry are (a first-party one's by default). */
export interface CapsuleSource {
  manifest: string;
  entry: string;
}

const firstPartySource = (name: string): CapsuleSource => ({
  manifest: join(REPO_ROOT, 'capsules', name, 'manifest.json'),
  entry: join(REPO_ROOT, 'capsules', name, 'dist', 'main.js'),
});

async function bundle(name: string, entry: string): Promise<Uint8Array> {
  if (!existsSync(entry)) throw new Error(`missing ${entry}: run tsc -b first`);
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    legalComments: 'none',
    logLevel: 'error',
    plugins: [runtimeErrorsOnly],
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild made no output for ${name}`);
  return file.contents;
}

/** Builds one capsule into `outDir/NAME-VERSION.capsule` unless it is up to date. */
export async function buildCapsule(
  name: string,
  outDir: string,
  key: PublisherKey,
  src: CapsuleSource = firstPartySource(name),
): Promise<BuiltCapsule> {
  const manifestBytes = readFileSync(src.manifest);
  const code = await bundle(name, src.entry);
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
