/**
 * Bundles for the QEMU update test (runtime/spec/update.md): the image's own root slot as release
 * N+1 (both UKIs remade with IMAGE_VERSION=N+1, its signed PCR policy re-signed for their PCR 11,
 * signed with the build's update key), and small
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
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { makeTestBundle } from '@elastos/testkit';
import type { ArchProfile } from './arch.js';
import { kernelCmdline } from './disk.js';
import { PCR_POLICY_PATH, pcrSigningKey, SIGNED_PHASES, signReleasePolicy, withPolicy } from './pcr-policy.js';
import { compatible, makeBundle, updateKey } from './rauc.js';
import { expectedPcr11, makeUki, SLOTS, type Slot, ukiName } from './uki.js';

export interface TestBundles {
  newer: string;
  older: string;
  flipped: string;
  newerVersion: number;
  /** PCR 11 the running box shows on slot B of release N+1. */
  pcr11b: string;
}

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
  return { out, pcr11: expectedPcr11(parts, u), phases };
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
      rootImage: newerRoot(imageDir, n, made, work),
      ukis,
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
