/**
 * Bundles for the QEMU update test (runtime/spec/update.md): release N+1 (the image's own root
 * slot, both UKIs remade with IMAGE_VERSION=N+1, its signed PCR policy re-signed for their PCR
 * 11), a release N+2 whose runtime exits as it starts, a good release N+2, each signed with the
 * build's update key and carrying its own release manifest; and small bundles refused before any
 * write: an older release, one byte changed, another signer. Each is made once per image
 * version and kept in `dir`.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { makeTestBundle } from '@elastos/testkit';
import type { ReleaseManifest } from '@elastos/verifier/attest/release';
import type { ArchProfile } from './arch.js';
import { kernelCmdline } from './disk.js';
import { PCR_POLICY_PATH, pcrSigningKey, SIGNED_PHASES, signReleasePolicy, withPolicy } from './pcr-policy.js';
import { compatible, makeBundle, type UpdateKey, updateKey } from './rauc.js';
import { appendToFile } from './slot-rig.js';
import { type BootInfo, expectedPcr11, makeUki, SLOTS, type Slot, sha256File, ukiName } from './uki.js';

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

function ukiAt(p: ArchProfile, imageDir: string, slot: Slot, version: string, work: string) {
  const out = join(work, ukiName(slot));
  const u = {
    root: join(imageDir, 'work', 'root'),
    vmlinuz: join(imageDir, 'vmlinuz'),
    initrd: join(imageDir, 'initrd.img'),
    cmdline: kernelCmdline(p, slot),
    version,
    out,
  };
  const parts = makeUki(p, u, slot);
  const phases = Object.fromEntries(SIGNED_PHASES.map((ph) => [ph, expectedPcr11(parts, u, ph)]));
  return { out, pcr11: expectedPcr11(parts, u), pcr11AfterStub: expectedPcr11(parts, u, ''), phases };
}

/**
 * Release N+1's root: release N's, with N+1's signed PCR policy when the image carries one
 * (signed with the build dir's dev PCR-signing key; PCR 23 is unchanged: same runtime and config).
 */
function newerRoot(
  imageDir: string,
  version: string,
  made: Record<Slot, { phases: Record<string, string> }>,
  work: string,
) {
  const rootImage = join(imageDir, 'rootfs.ext4');
  if (!existsSync(join(imageDir, 'work', 'root', PCR_POLICY_PATH))) return rootImage;
  const manifest = JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as {
    measuredBoot: { pcrAfterRuntime: string };
  };
  const key = pcrSigningKey(join(imageDir, '..', 'keys'));
  const slots = SLOTS.map((slot) => ({ slot, phases: made[slot].phases }));
  const policy = signReleasePolicy(version, key, slots, manifest.measuredBoot.pcrAfterRuntime);
  return withPolicy(rootImage, policy, join(work, 'policy'), join(work, `rootfs-${version}.ext4`));
}

function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = (b[0] ?? 0) ^ 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
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
  const made = Object.fromEntries(SLOTS.map((s) => [s, ukiAt(p, imageDir, s, n, work)])) as Record<
    Slot,
    { out: string; pcr11: string; pcr11AfterStub: string; phases: Record<string, string> }
  >;
  const manifest = join(o.dir, `${o.name}.manifest.json`);
  writeFileSync(manifest, `${JSON.stringify(releaseManifest(imageDir, n, made), null, 2)}\n`);
  if (!existsSync(file)) {
    let rootImage = newerRoot(imageDir, n, made, work);
    if (o.broken) {
      const copy = join(work, 'rootfs-broken.ext4');
      copyFileSync(rootImage, copy);
      appendToFile(copy, DAEMON_MAIN, BROKEN_RUNTIME, work);
      rootImage = copy;
    }
    makeBundle({
      p,
      version: n,
      rootImage,
      ukis: { a: made.a.out, b: made.b.out },
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

/** Release N's manifest as release `n` would state it: its version and its UKIs' PCR 11. */
function releaseManifest(
  imageDir: string,
  n: string,
  made: Record<Slot, { out: string; pcr11: string; pcr11AfterStub: string }>,
): Omit<ReleaseManifest, 'boot'> & { boot: BootInfo } {
  const m = JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as Omit<ReleaseManifest, 'boot'> & {
    boot: BootInfo;
  };
  const slots = m.boot.slots.map((s) => ({
    ...s,
    sha256: sha256File(made[s.slot].out),
    pcr11: made[s.slot].pcr11,
    pcr11AfterStub: made[s.slot].pcr11AfterStub,
  }));
  return { ...m, version: n, boot: { ...m.boot, version: n, slots } };
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
