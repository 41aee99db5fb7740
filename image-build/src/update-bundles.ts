/**
 * Bundles for the QEMU update test (runtime/spec/update.md): the image's own root slot, unchanged
 * (same dm-verity root hash), as release N+1 (both UKIs remade with IMAGE_VERSION=N+1, and each
 * slot's signed PCR policy re-signed for their PCR 11, carried beside the UKIs for the hook to put
 * on the ESP; signed with the build's update key), and small
 * signed bundles of an older release and with one byte changed (refused before any write).
 * Each is made once per image version and kept in `dir`.
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
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { makeTestBundle } from '@elastos/testkit';
import type { ArchProfile } from './arch.js';
import { kernelCmdline } from './disk.js';
import { espPolicyPath, pcrSigningKey, SIGNED_PHASES, signSlotPolicies } from './pcr-policy.js';
import { compatible, makeBundle, updateKey } from './rauc.js';
import { type BootInfo, expectedPcr11, makeUki, SLOTS, type Slot, ukiName } from './uki.js';

export interface TestBundles {
  newer: string;
  older: string;
  flipped: string;
  newerVersion: number;
  /** PCR 11 the running box shows on slot B of release N+1. */
  pcr11b: string;
}

/** The image's release manifest, as far as these bundles read it. */
function imageManifest(imageDir: string) {
  return JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as {
    boot: BootInfo;
    measuredBoot: { pcrAfterRuntime: string };
  };
}

function ukiAt(p: ArchProfile, imageDir: string, slot: Slot, version: string, work: string) {
  const out = join(work, ukiName(slot));
  const u = {
    root: join(imageDir, 'work', 'root'),
    vmlinuz: join(imageDir, 'vmlinuz'),
    initrd: join(imageDir, 'initrd.img'),
    cmdline: kernelCmdline(p, slot, imageManifest(imageDir).boot.verity),
    version,
    out,
  };
  const parts = makeUki(p, u, slot);
  const phases = Object.fromEntries(SIGNED_PHASES.map((ph) => [ph, expectedPcr11(parts, u, ph)]));
  return { out, pcr11: expectedPcr11(parts, u), phases };
}

/**
 * Release N+1's signed PCR policy per slot, when the image carries one (on its ESP tree): signed with
 * the build dir's dev PCR-signing key for N+1's PCR 11; PCR 23 is unchanged (same runtime, config
 * and trust store). Its root slot is release N's, unchanged: the policy is not on it.
 */
function newerPolicies(
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

/** Flips the lowest bit of the byte at `at` of `file`, in place. */
export function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = (b[0] ?? 0) ^ 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

export function testBundles(p: ArchProfile, imageDir: string, version: number, dir: string): TestBundles {
  mkdirSync(dir, { recursive: true });
  const key = updateKey(join(imageDir, '..', 'keys'));
  const n = String(version + 1);
  const newer = join(dir, `update-${n}.raucb`);
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  const made = Object.fromEntries(SLOTS.map((s) => [s, ukiAt(p, imageDir, s, n, work)])) as Record<
    Slot,
    { out: string; pcr11: string; phases: Record<string, string> }
  >;
  if (!existsSync(newer)) {
    const ukis = { a: made.a.out, b: made.b.out };
    makeBundle({
      p,
      version: n,
      rootImage: join(imageDir, 'rootfs.ext4'),
      ukis,
      policies: newerPolicies(imageDir, n, made, work),
      release: join(imageDir, 'manifest.json'),
      key,
      work,
      out: `${newer}.tmp`,
    });
    renameSync(`${newer}.tmp`, newer); // whole or not at all: a killed build leaves no half bundle
  }
  const older = makeTestBundle(dir, {
    version: String(Math.max(1, version - 1)),
    key,
    compatible: compatible(p),
    out: join(dir, `older-${version - 1}.raucb`),
  });
  const flipped = join(dir, 'flipped.raucb');
  const small = makeTestBundle(dir, { version: n, key, compatible: compatible(p), out: join(dir, 'small.raucb') });
  copyFileSync(small, flipped);
  flipByte(flipped, 100);
  return { newer, older, flipped, newerVersion: version + 1, pcr11b: made.b.pcr11 };
}
