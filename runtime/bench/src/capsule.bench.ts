/**
 * What checking a capsule costs (runtime/spec/capsule-package.md §5, §7.3): verifying package
 * bytes at install and re-verifying the unpacked files at boot, against one bare Ed25519 verify
 * (the floor: every check includes exactly one). Prints one JSON array (scripts/src/bench-all.ts).
 */
import { join } from 'node:path';
import { buildPackage, signPackage } from '@elastos/publisher';
import { CapsuleManager } from '@elastos/runtime/capsules/capsule-manager';
import { exampleManifest, fileMap, PUBLISHER_SEED } from '@elastos/runtime/capsules/fixtures/vectors';
import { verifyPackage } from '@elastos/runtime/capsules/package-verify';
import { addTrustedKey, loadTrustStore, publicKeyEntry } from '@elastos/runtime/capsules/trust-store';
import { Store } from '@elastos/runtime/store/index';
import { makeTempDir } from '@elastos/testkit';
import { getPublicKeyAsync, signAsync, verifyAsync } from '@noble/ed25519';

async function medianMs(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1] ?? 0;
}

const seed = new Uint8Array(Buffer.from(PUBLISHER_SEED, 'hex'));
const publicKey = await getPublicKeyAsync(seed);
// A realistic small app: 40 files of 4 KiB.
const files = fileMap(
  Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`lib/m${i}.js`, `// ${i}\n`.padEnd(4096, 'x')])),
);
files.set('main.js', new TextEncoder().encode('export {};\n'));
const bytes = await signPackage(buildPackage(exampleManifest('0000000000000000'), files), seed);

const dir = makeTempDir('elastos-bench-');
const trustDir = join(dir.path, 'trust');
addTrustedKey(trustDir, publicKeyEntry('bench', Buffer.from(publicKey).toString('hex')));
const store = await Store.open(join(dir.path, 'store'));
const capsules = new CapsuleManager({ stateDir: dir.path, trustDir, store });
await capsules.install(bytes);

const msg = new Uint8Array(60);
const sig = await signAsync(msg, seed);
const baseline = await medianMs(50, () => verifyAsync(sig, msg, publicKey, { zip215: false }));
const install = await medianMs(50, () => verifyPackage(bytes, loadTrustStore(trustDir)));
const boot = await medianMs(50, () => capsules.loadInstalled('photo-editor'));
await store.close();
dir.remove();

const row = (name: string, value: number, goal: string) => ({
  name,
  value,
  unit: 'ms',
  baseline,
  ratio: value / baseline,
  goal,
});
process.stdout.write(
  `${JSON.stringify([
    row('capsule verify package (41 files, 160 KiB) vs one ed25519 verify', install, '< 5x'),
    row('capsule re-verify installed at boot (41 files) vs one ed25519 verify', boot, '< 10x'),
  ])}\n`,
);
