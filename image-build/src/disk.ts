/** The disk image and its companions (bmap, zstd), sized from the trees it holds. */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile } from './arch.js';
import { require0, STAGES_DIR, tail } from './rootfs.js';
import type { VerityInfo } from './verity.js';

/** GPT partition type of a root slot (Discoverable Partitions Specification). */
const ROOT_TYPE = { arm64: 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE', amd64: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709' };
export const ROOT_A_PARTUUID = '6c1d1f0e-6f3a-4c63-9d2a-0000000000a1';
export const ROOT_B_PARTUUID = '6c1d1f0e-6f3a-4c63-9d2a-0000000000a2';
export const SLOT_PARTUUID = { a: ROOT_A_PARTUUID, b: ROOT_B_PARTUUID } as const;
/**
 * The data partition: the store, the trail, installed capsules and each capsule's preallocated
 * data volume (64 MiB by default, storage's 320: runtime/launcher/README.md "Disk quota"), and
 * room for an update bundle twice (the admin's download and the runtime's own copy, 2 x 247 MiB:
 * runtime/spec/update.md §5).
 */
export const DATA_MIB = 1536;
export const BOOT_MIB = 128;

export function duMib(dir: string): number {
  const r = spawnSync('du', ['-s', '--block-size=1M', dir], { encoding: 'utf8' });
  require0(r.status, `du ${dir}`);
  return Number.parseInt(r.stdout, 10);
}

/** A root slot: the tree plus a quarter for inodes, journal and growth, rounded up to 64 MiB. */
export const rootSlotMib = (treeMib: number) => Math.ceil((treeMib * 1.25 + 64) / 64) * 64;

export interface DiskOutput {
  raw: string;
  rawBytes: number;
  compressed: string;
  compressedBytes: number;
  bmap: string;
  rootMib: number;
}

/** The disk from the root slot's image (verity.ts, `rootMib` its partition) and the data and boot trees. */
export function makeDisk(
  out: string,
  p: ArchProfile,
  slot: { image: string; rootMib: number },
  trees: { data: string; boot: string },
): DiskOutput {
  const rootMib = slot.rootMib;
  const args = [join(STAGES_DIR, 'disk.sh'), out, slot.image, trees.data, trees.boot];
  args.push(String(rootMib), String(DATA_MIB), String(BOOT_MIB), ROOT_TYPE[p.arch]);
  const r = spawnSync('bash', args, { encoding: 'utf8' });
  require0(r.status, `disk image: ${tail(`${r.stdout}${r.stderr}`)}`);
  const raw = join(out, 'disk.img');
  const compressed = `${raw}.zst`;
  return {
    raw,
    rawBytes: statSync(raw).size,
    compressed,
    compressedBytes: statSync(compressed).size,
    bmap: `${raw}.bmap`,
    rootMib,
  };
}

/**
 * A slot's kernel command line (in its UKI, so measured into PCR 11): the root is the slot opened
 * under dm-verity by the initramfs (stages/initramfs/verity-local-top) from
 * `elastos.verity=PARTUUID=<slot>,<root hash>,<hash offset>`; RAUC's bootname; read-only; no fsck
 * (a read-only device that verity checks block by block); the console on the first UART; a panic
 * (e.g. a slot that fails verity) reboots after 10 s, so the boot counter falls back.
 */
export const kernelCmdline = (p: ArchProfile, slot: 'a' | 'b', verity: Pick<VerityInfo, 'rootHash' | 'hashOffset'>) =>
  [
    `root=${VERITY_ROOT}`,
    `elastos.verity=PARTUUID=${SLOT_PARTUUID[slot]},${verity.rootHash},${verity.hashOffset}`,
    `rauc.slot=${slot}`,
    'ro',
    'fsck.mode=skip',
    `console=${p.console}`,
    'panic=10',
    'net.ifnames=0',
  ].join(' ');

/** The device-mapper node the initramfs opens the root slot as. */
export const VERITY_ROOT = '/dev/mapper/elastos-root';
