/**
 * Bundles for the QEMU update test (runtime/spec/update.md): release N+1 (the image's own root
 * slot unchanged, same dm-verity root hash; both UKIs remade with IMAGE_VERSION=N+1 and each
 * slot's signed PCR policy re-signed for their PCR 11, carried beside the UKIs for the hook to put
 * on the ESP), a release N+2 whose runtime exits as it starts (its root changed, so its own root
 * hash, UKIs and policies), a good release N+2, each signed with the build's update key and
 * carrying its own release manifest; and small bundles refused before any write: an older
 * release, one byte changed, another signer. Each is made once per image version and kept in `dir`.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { makeTestBundle } from '@elastos/testkit';
import type { ReleaseManifest } from '@elastos/verifier/attest/release';
import type { ArchProfile } from './arch.js';
import { kernelCmdline } from './disk.js';
import { espPolicyPath, pcrSigningKey, SIGNED_PHASES, signSlotPolicies } from './pcr-policy.js';
import { compatible, makeBundle, type UpdateKey, updateKey } from './rauc.js';
import { appendToFile, flipByte } from './slot-rig.js';
import { type BootInfo, expectedPcr11, makeUki, SLOTS, type Slot, sha256File, ukiName } from './uki.js';
import { formatVerity, type VerityInfo } from './verity.js';

/** A release bundle of the test and what the box should show when it runs it. */
export interface ReleaseBundle {
  file: string;
  version: number;
  /** Its release manifest (`attest verify --expect`): release N's with this version's UKIs. */
  manifest: string;
  /** PCR 11 the running box shows on each slot of this release. */
  pcr11: Record<Slot, string>;
}

/** Small signed bundles refused before any write: older, one byte changed, another signer. */
export interface RefusedBundles {
  older: string;
  flipped: string;
  otherKey: string;
}

/** The runtime daemon's entry module: the broken release's runtime exits at its import. */
export const DAEMON_MAIN = '/usr/lib/elastos/node_modules/@elastos/runtime/dist/daemon/main.js';
export const BROKEN_RUNTIME = '\nprocess.exit(70); // a broken release: its runtime exits as it starts\n';

/** The image's release manifest. */
function imageManifest(imageDir: string) {
  return JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as Omit<ReleaseManifest, 'boot'> & {
    boot: BootInfo;
    measuredBoot: { pcrAfterRuntime: string };
  };
}

function ukiAt(p: ArchProfile, imageDir: string, slot: Slot, version: string, verity: VerityInfo, work: string) {
  const out = join(work, ukiName(slot));
  const u = {
    root: join(imageDir, 'work', 'root'),
    vmlinuz: join(imageDir, 'vmlinuz'),
    initrd: join(imageDir, 'initrd.img'),
    cmdline: kernelCmdline(p, slot, verity),
    version,
    out,
  };
  const parts = makeUki(p, u, slot);
  const phases = Object.fromEntries(SIGNED_PHASES.map((ph) => [ph, expectedPcr11(parts, u, ph)]));
  return {
    out,
    cmdline: u.cmdline,
    pcr11: expectedPcr11(parts, u),
    pcr11AfterStub: expectedPcr11(parts, u, ''),
    phases,
  };
}

/**
 * Release `version`'s signed PCR policy per slot, when the image carries one (on its ESP tree):
 * signed with the build dir's dev PCR-signing key for that release's PCR 11; PCR 23 is release
 * N's (the same config and trust store; the broken release's runtime exits before it measures).
 */
function releasePolicies(
  imageDir: string,
  version: string,
  made: Record<Slot, { phases: Record<string, string> }>,
  work: string,
): Record<Slot, string> | undefined {
  if (!existsSync(join(imageDir, 'work', 'boot', espPolicyPath('a')))) return undefined;
  const key = pcrSigningKey(join(imageDir, '..', 'keys'));
  const slots = SLOTS.map((slot) => ({ slot, phases: made[slot].phases }));
  const signed = signSlotPolicies(version, key, slots, imageManifest(imageDir).measuredBoot.pcrAfterRuntime);
  const files = { a: join(work, `pcr-policy-a-${version}.json`), b: join(work, `pcr-policy-b-${version}.json`) };
  for (const slot of SLOTS) writeFileSync(files[slot], signed[slot]);
  return files;
}

/**
 * Release N's root slot with its runtime's entry module broken: the filesystem changed with
 * debugfs, then its dm-verity tree made anew (a new root hash).
 */
function brokenRoot(imageDir: string, work: string): { image: string; verity: VerityInfo } {
  const { verity } = imageManifest(imageDir).boot;
  const image = join(work, 'rootfs-broken.ext4');
  copyFileSync(join(imageDir, 'rootfs.ext4'), image);
  truncateSync(image, verity.hashOffset); // the filesystem alone; its tree is made again
  appendToFile(image, DAEMON_MAIN, BROKEN_RUNTIME, work);
  return { image, verity: formatVerity(image, verity.dataBlocks) };
}

/**
 * Release `n` of the test: release N's root slot (its runtime broken when `broken`), both UKIs
 * remade at version n, its signed PCR policy and its release manifest.
 */
function releaseBundle(
  p: ArchProfile,
  imageDir: string,
  n: string,
  o: { dir: string; key: UpdateKey; name: string; broken?: boolean },
): ReleaseBundle {
  const file = join(o.dir, `${o.name}.raucb`);
  const work = join(o.dir, `work-${o.name}`);
  mkdirSync(work, { recursive: true });
  const root = o.broken
    ? brokenRoot(imageDir, work)
    : { image: join(imageDir, 'rootfs.ext4'), verity: imageManifest(imageDir).boot.verity };
  const made = Object.fromEntries(SLOTS.map((s) => [s, ukiAt(p, imageDir, s, n, root.verity, work)])) as Record<
    Slot,
    Made
  >;
  const manifest = join(o.dir, `${o.name}.manifest.json`);
  writeFileSync(manifest, `${JSON.stringify(releaseManifest(imageDir, n, made, root.verity), null, 2)}\n`);
  if (!existsSync(file)) {
    makeBundle({
      p,
      version: n,
      rootImage: root.image,
      ukis: { a: made.a.out, b: made.b.out },
      policies: releasePolicies(imageDir, n, made, work),
      release: manifest,
      key: o.key,
      work,
      out: `${file}.tmp`,
    });
    renameSync(`${file}.tmp`, file); // whole or not at all: a killed build leaves no half bundle
  }
  rmSync(work, { recursive: true, force: true });
  return { file, version: Number(n), manifest, pcr11: { a: made.a.pcr11, b: made.b.pcr11 } };
}

type Made = ReturnType<typeof ukiAt>;

/** Release N's manifest as release `n` would state it: its version, its UKIs' PCR 11, its root hash. */
function releaseManifest(imageDir: string, n: string, made: Record<Slot, Made>, verity: VerityInfo) {
  const m = imageManifest(imageDir);
  const slots = m.boot.slots.map((s) => ({
    ...s,
    cmdline: made[s.slot].cmdline,
    sha256: sha256File(made[s.slot].out),
    pcr11: made[s.slot].pcr11,
    pcr11AfterStub: made[s.slot].pcr11AfterStub,
  }));
  return { ...m, version: n, boot: { ...m.boot, version: n, slots, verity } };
}

/** The test's releases N+1 (good), N+2 whose runtime exits as it starts, and N+2 (good). */
export function releaseBundles(p: ArchProfile, imageDir: string, version: number, dir: string, ci: boolean) {
  mkdirSync(dir, { recursive: true });
  const key = updateKey(join(imageDir, '..', 'keys'));
  const release = (n: number, name: string, broken = false) =>
    releaseBundle(p, imageDir, String(n), { dir, key, name, broken });
  return {
    newer: ci ? undefined : release(version + 1, `update-${version + 1}`),
    broken: release(version + 2, `broken-${version + 2}`, true),
    later: ci ? undefined : release(version + 2, `update-${version + 2}`),
  };
}

export function refusedBundles(p: ArchProfile, imageDir: string, version: number, dir: string): RefusedBundles {
  mkdirSync(dir, { recursive: true });
  const key = updateKey(join(imageDir, '..', 'keys'));
  const small = (v: number, name: string, k: UpdateKey) =>
    makeTestBundle(dir, { version: String(v), key: k, compatible: compatible(p), out: join(dir, `${name}.raucb`) });
  const flipped = join(dir, 'flipped.raucb');
  copyFileSync(small(version + 1, 'small', key), flipped);
  flipByte(flipped, 100);
  return {
    older: small(Math.max(1, version - 1), `older-${version - 1}`, key),
    flipped,
    // Same version, compatible and layout as a good bundle, signed by a key the box does not trust.
    otherKey: small(version + 1, 'other-key', updateKey(join(dir, 'other-signer'))),
  };
}
