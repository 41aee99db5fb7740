/**
 * The UEFI boot partition (image-build/README.md, "Boot chain"): systemd-boot as the removable
 * boot loader, and one unified kernel image (UKI) per root slot, made with objcopy from the
 * image's own systemd-stub (bookworm has no ukify). The stub measures its sections (.linux,
 * .osrel, .cmdline, .initrd) into PCR 11; systemd-measure predicts that value, which the
 * manifest records per slot.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile } from './arch.js';
import { require0, tail } from './rootfs.js';
import type { VerityInfo } from './verity.js';

export type Slot = 'a' | 'b';

/** What the manifest records of the boot chain (manifest.json `boot`). */
export interface BootInfo {
  version: string;
  loader: string;
  tries: number;
  /** Per slot: `pcr11` once the box is up (stub + systemd-pcrphase), `pcr11AfterStub` right after the stub. */
  slots: Array<{ slot: Slot; cmdline: string; file: string; sha256: string; pcr11: string; pcr11AfterStub: string }>;
  /** The root slot's dm-verity parameters (the same for both slots: one image), on each command line. */
  verity: VerityInfo;
}
export const SLOTS: readonly Slot[] = ['a', 'b'];

/** Tries a freshly written slot gets before systemd-boot gives up on it (the `+N` of its file name). */
export const BOOT_TRIES = 3;

export interface UkiInputs {
  /** The root tree the stub and systemd-boot come from (the image's own systemd-boot-efi). */
  root: string;
  vmlinuz: string;
  initrd: string;
  cmdline: string;
  /** Monotonic release version: the UKI's IMAGE_VERSION, which systemd-boot sorts by (newest first). */
  version: string;
  out: string;
}

const EFI_LIB = 'usr/lib/systemd/boot/efi';
const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** os-release of a slot: systemd-boot's title, sort key (IMAGE_ID) and version (IMAGE_VERSION). */
export function osRelease(version: string, slot: Slot): string {
  return [
    'NAME="ElastOS"',
    'ID=elastos',
    'IMAGE_ID=elastos',
    `IMAGE_VERSION=${version}`,
    `PRETTY_NAME="ElastOS ${version} (slot ${slot.toUpperCase()})"`,
    '',
  ].join('\n');
}

/**
 * Section addresses after the stub: .osrel and .cmdline small, .linux then .initrd each on a
 * 16 MiB boundary past the previous (arm64's 27 MB uncompressed kernel needs .initrd above
 * 0x4000000: FACTS.md).
 */
export function sectionLayout(linuxBytes: number): Record<string, number> {
  const linux = 0x2000000;
  return { '.osrel': 0x20000, '.cmdline': 0x30000, '.linux': linux, '.initrd': align(linux + linuxBytes, 0x1000000) };
}

export function makeUki(p: ArchProfile, u: UkiInputs, slot: Slot): string {
  const work = `${u.out}.parts`;
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'osrel'), osRelease(u.version, slot));
  writeFileSync(join(work, 'cmdline'), `${u.cmdline}\0`);
  const files: Record<string, string> = {
    '.osrel': join(work, 'osrel'),
    '.cmdline': join(work, 'cmdline'),
    '.linux': u.vmlinuz,
    '.initrd': u.initrd,
  };
  const layout = sectionLayout(statSync(u.vmlinuz).size);
  const args: string[] = [];
  for (const [name, file] of Object.entries(files)) {
    args.push('--add-section', `${name}=${file}`, '--change-section-vma', `${name}=0x${layout[name]?.toString(16)}`);
  }
  args.push(join(u.root, EFI_LIB, p.efi.stub), u.out);
  const r = spawnSync(p.efi.objcopy, args, { encoding: 'utf8' });
  require0(r.status, `objcopy (UKI for slot ${slot}): ${tail(`${r.stdout}${r.stderr}`)}`);
  return work;
}

/**
 * PCR 11 as systemd-measure predicts it (the same systemd release as the stub). The stub extends
 * the UKI's sections; then, in the booted system, systemd-pcrphase extends the boot phase words
 * "sysinit" and "ready" (Debian's initramfs-tools initrd runs no systemd, so no initrd phases).
 * `phase` '' is the value right after the stub; 'sysinit:ready' the one the running box shows.
 */
export function expectedPcr11(parts: string, u: UkiInputs, phase = RUNNING_PHASE): string {
  const r = spawnSync(
    '/lib/systemd/systemd-measure',
    [
      'calculate',
      `--linux=${u.vmlinuz}`,
      `--osrel=${join(parts, 'osrel')}`,
      `--cmdline=${join(parts, 'cmdline')}`,
      `--initrd=${u.initrd}`,
      '--bank=sha256',
      `--phase=${phase}`,
    ],
    { encoding: 'utf8' },
  );
  require0(r.status, `systemd-measure: ${tail(`${r.stdout}${r.stderr}`)}`);
  const m = /11:sha256=([0-9a-f]{64})/.exec(r.stdout);
  require0(m ? 0 : 1, `systemd-measure printed no PCR 11: ${r.stdout}`);
  return m?.[1] ?? '';
}

/** The boot phases systemd-pcrphase has extended into PCR 11 once the box is up (multi-user). */
export const RUNNING_PHASE = 'sysinit:ready';

/** loader.conf: no menu, no editor (a changed command line would not be the measured one). */
export const LOADER_CONF = ['timeout 0', 'editor no', 'auto-entries no', 'auto-firmware no', ''].join('\n');

/** The ESP's fixed part: systemd-boot at the removable path, and its config. */
export function installBootLoader(p: ArchProfile, root: string, esp: string): void {
  mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
  mkdirSync(join(esp, 'EFI/Linux'), { recursive: true });
  mkdirSync(join(esp, 'loader'), { recursive: true });
  cpSync(join(root, EFI_LIB, p.efi.loader), join(esp, 'EFI/BOOT', p.efi.removable));
  writeFileSync(join(esp, 'loader/loader.conf'), LOADER_CONF);
}

export const ukiName = (slot: Slot, tries?: number) => `elastos-${slot}${tries === undefined ? '' : `+${tries}`}.efi`;

export const sha256File = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
