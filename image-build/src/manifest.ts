/**
 * manifest.json: what a release is made of, so that a box's attestation can be checked against
 * the release it claims to run (`elastos attest verify DIR --expect manifest.json`): every Debian
 * package and version, Node's version and hashes, the hash of every runtime file, the capsules,
 * and the digests the runtime's measured boot extends (runtime/spec/boot.md §2).
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { canonicalJson, loadConfig, treeDigest } from '@elastos/runtime';
import { closureFiles } from '@elastos/runtime/boot/code-set';
import { setDigest } from '@elastos/runtime/boot/measure';
import { replay } from '@elastos/verifier/attest/event-log';
import type { ReleaseManifest } from '@elastos/verifier/attest/release';
import type { ArchProfile } from './arch.js';
import type { ImageCapsule } from './capsules.js';
import type { NodeDist } from './node-dist.js';
import { installedPackages } from './rootfs.js';
import { listFiles } from './stage.js';
import type { BootInfo } from './uki.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** `path` inside the image tree, resolved there: the box's absolute path and the host's file. */
function inImage(root: string, boxPath: string): { boxPath: string; file: string } {
  const file = realpathSync(join(root, boxPath));
  const rel = relative(root, file);
  if (rel.startsWith('..')) throw new Error(`${boxPath} leaves the image tree (${file})`);
  return { boxPath: `/${rel}`, file };
}

/**
 * The first four events of the runtime's measured boot (runtime/spec/boot.md §2), computed from
 * the image's trees with the runtime's own code sets: `runtime.code` (the runtime package and its
 * production closure, named by package and version, so the same on the box), `runtime.exec`
 * (the Node that runs elastosd, `/usr/bin/node`, and what the config names for capsules), the
 * effective config and the trust store.
 */
export async function expectedRuntimeEvents(
  root: string,
  data: string,
  nodeVersion: string,
): Promise<ReleaseManifest['measuredBoot']['runtime']> {
  const runtimeDir = join(root, 'usr/lib/elastos/node_modules/@elastos/runtime');
  const configFile = join(data, 'elastos/etc/config.json');
  const config = loadConfig(configFile);
  const execs = ['/usr/bin/node', config.confine.nodePath, config.confine.launcher].filter((p) => p !== '');
  const unique = [...new Map(execs.map((p) => inImage(root, p)).map((e) => [e.boxPath, e])).values()];
  return [
    {
      type: 'runtime.code',
      name: '@elastos/runtime',
      digest: await setDigest(closureFiles(runtimeDir)),
    },
    {
      type: 'runtime.exec',
      name: `node v${nodeVersion}`,
      digest: await setDigest(unique.map((e) => ({ name: `exec:${e.boxPath}`, path: e.file }))),
    },
    { type: 'runtime.config', name: 'effective config', digest: sha256(canonicalJson(config)) },
    { type: 'trust.store', name: config.trustDir, digest: treeDigest(join(data, 'elastos/etc/trust'), ['.']) },
  ];
}

/** sha256 of every file under the given image dirs (relative to the root, sorted). */
function fileHashes(root: string, dirs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dirs) {
    for (const rel of listFiles(join(root, d))) out[`/${d}/${rel}`] = sha256(readFileSync(join(root, d, rel)));
  }
  return out;
}

/** PCR 23 after the runtime's four boot measurements on the box (what the signed PCR policy names). */
export async function expectedPcrAfterRuntime(root: string, data: string, nodeVersion: string): Promise<string> {
  const runtime = await expectedRuntimeEvents(root, data, nodeVersion);
  return replay(
    runtime.map((e, seq) => ({ seq, pcr: 23, ...e })),
    23,
  );
}

export interface ManifestInputs {
  p: ArchProfile;
  root: string;
  data: string;
  node: NodeDist;
  capsules: ImageCapsule[];
  publisher: { name: string; keyId: string; publicKey: string };
  kernel: { cmdline: string; vmlinuz: string; initrd: string; boot: BootInfo };
  workspaces: Array<{ name: string; version: string }>;
}

export async function makeManifest(i: ManifestInputs): Promise<ReleaseManifest> {
  const runtime = await expectedRuntimeEvents(i.root, i.data, i.node.version);
  const events = runtime.map((e, seq) => ({ seq, pcr: 23, ...e }));
  return {
    format: 'elastos-release/1',
    arch: i.p.arch,
    sourceDateEpoch: Number(process.env.SOURCE_DATE_EPOCH ?? 0),
    debian: { suite: 'bookworm', packages: installedPackages(i.root) },
    node: {
      version: i.node.version,
      source: i.node.source,
      tarballSha256: i.node.tarballSha256,
      binarySha256: i.node.binarySha256,
    },
    kernel: {
      cmdline: i.kernel.cmdline,
      vmlinuzSha256: sha256(readFileSync(i.kernel.vmlinuz)),
      initrdSha256: sha256(readFileSync(i.kernel.initrd)),
    },
    version: i.kernel.boot.version,
    boot: i.kernel.boot,
    workspaces: i.workspaces,
    publisher: i.publisher,
    capsules: i.capsules.map((c) => ({ name: c.name, version: c.version, id: c.id, digest: c.digest })),
    measuredBoot: {
      spec: 'runtime/spec/boot.md §2',
      pcr: 23,
      runtime,
      pcrAfterRuntime: replay(events, 23),
    },
    files: { ...fileHashes(i.root, ['usr/lib/elastos', 'usr/share/elastos']), '/usr/bin/node': i.node.binarySha256 },
  };
}
