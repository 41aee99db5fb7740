/**
 * Host-side helpers of the boot tests for the A/B slots (image-build/README.md, "Boot chain"):
 * read the ESP's boot loader entries of a (stopped) box's disk, and write a root slot and its
 * UKI straight onto the disk, e.g. a copy of slot A with one runtime file changed, which must
 * fail its boot assessment and make systemd-boot fall back by itself.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile } from './arch.js';
import { BOOT_MIB, kernelCmdline } from './disk.js';
import { require0, tail } from './rootfs.js';
import { type BootInfo, expectedPcr11, makeUki, type Slot, ukiName } from './uki.js';

/** The file names under the ESP's EFI/Linux (the entries and their tries counters). */
export function espEntries(disk: string): string[] {
  const out = execFileSync('mdir', ['-b', '-i', `${disk}@@1M`, '::/EFI/Linux'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().replace(/^::\/EFI\/Linux\//, ''))
    .filter((l) => l.endsWith('.efi'))
    .sort();
}

/** Byte offset and size (MiB) of a root slot in the disk (disk.sh's layout). */
function slotExtent(slot: Slot, rootMib: number): { seekMib: number } {
  return { seekMib: 1 + BOOT_MIB + (slot === 'a' ? 0 : rootMib) };
}

/**
 * Appends `text` to the file at `path` inside an ext4 image, with debugfs (no mount): a changed
 * file in a root slot. Reads it back, so a failed write is an error, not a passing test.
 */
export function appendToFile(fs: string, path: string, text: string, work: string): void {
  mkdirSync(work, { recursive: true });
  const local = join(work, 'edited');
  const r = spawnSync('debugfs', ['-R', `dump ${path} ${local}`, fs], { encoding: 'utf8' });
  require0(r.status, `debugfs dump ${path}: ${tail(r.stderr)}`);
  appendFileSync(local, text);
  const cmds = join(work, 'debugfs.cmd');
  const dir = path.slice(0, path.lastIndexOf('/'));
  const name = path.slice(path.lastIndexOf('/') + 1);
  writeFileSync(cmds, `cd ${dir}\nrm ${name}\nwrite ${local} ${name}\nsif ${name} mode 0100644\n`);
  const w = spawnSync('debugfs', ['-w', '-f', cmds, fs], { encoding: 'utf8' });
  require0(w.status, `debugfs write: ${tail(`${w.stdout}${w.stderr}`)}`);
  const back = spawnSync('debugfs', ['-R', `cat ${path}`, fs], { encoding: 'utf8', maxBuffer: 64 << 20 });
  require0(back.stdout.endsWith(text) ? 0 : 1, `the changed ${path} did not read back`);
}

/** What the tamper writes over the start of the file's first block (the rest of the block is unchanged). */
export const TAMPER_MARK = '/* not the measured runtime */';

/**
 * Changes `file` inside a root slot image in place: the first bytes of its first data block
 * (`debugfs bmap`), nothing else, no metadata. The filesystem stays consistent and mounts; under
 * dm-verity that one block no longer matches the tree, so reading the file is an I/O error.
 */
export function tamperInPlace(image: string, file: string): number {
  const { block, at } = fileBlockOffset(image, file);
  const fd = openSync(image, 'r+');
  writeSync(fd, Buffer.from(TAMPER_MARK), 0, TAMPER_MARK.length, at);
  closeSync(fd);
  const back = spawnSync('debugfs', ['-R', `cat ${file}`, image], { encoding: 'utf8', maxBuffer: 64 << 20 });
  require0(back.stdout.startsWith(TAMPER_MARK) ? 0 : 1, 'the tampered file was not written');
  return block;
}

/** The first data block of `file` in an ext4 image (`debugfs bmap`), and its byte offset there. */
export function fileBlockOffset(image: string, file: string): { block: number; at: number } {
  const r = spawnSync('debugfs', ['-R', `bmap ${file} 0`, image], { encoding: 'utf8' });
  const block = Number.parseInt(r.stdout.trim(), 10);
  require0(r.status === 0 && block > 0 ? 0 : 1, `debugfs bmap ${file}: ${tail(`${r.stdout}${r.stderr}`)}`);
  const bs = spawnSync('debugfs', ['-R', 'stats', image], { encoding: 'utf8' });
  const size = Number(/Block size:\s+(\d+)/.exec(bs.stdout)?.[1] ?? 0);
  require0(size > 0 ? 0 : 1, `debugfs stats: no block size: ${tail(bs.stderr)}`);
  return { block, at: block * size };
}

/** Flips the bits `mask` of the byte at `at` of `file`, in place. */
export function flipByte(file: string, at: number, mask = 0x01): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = (b[0] ?? 0) ^ mask;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

/**
 * Copies slot A (filesystem and dm-verity tree) into `slot` of the same disk, optionally changing
 * one file in it in place (tamperInPlace): slot B's UKI carries the same root hash, so that slot
 * opens, mounts, and fails reading the changed block.
 */
export function copySlot(disk: string, rootMib: number, to: Slot, work: string, tamper?: string): void {
  mkdirSync(work, { recursive: true });
  const fs = join(work, 'slot.ext4');
  const a = slotExtent('a', rootMib).seekMib;
  execFileSync('dd', [`if=${disk}`, `of=${fs}`, 'bs=1M', `skip=${a}`, `count=${rootMib}`, 'status=none']);
  if (tamper) tamperInPlace(fs, tamper);
  const seek = slotExtent(to, rootMib).seekMib;
  execFileSync('dd', [`if=${fs}`, `of=${disk}`, 'bs=1M', `seek=${seek}`, 'conv=notrunc,sparse', 'status=none']);
  rmSync(fs, { force: true });
}

/**
 * Flips one byte in the first data block of `path` in `slot` of a (stopped) box's disk: one block
 * of the root slot altered on disk, below the filesystem (no debugfs write, no checksum updated).
 * Returns the block's byte offset in the disk.
 */
export function flipFileBlock(disk: string, rootMib: number, slot: Slot, path: string, work: string): number {
  mkdirSync(work, { recursive: true });
  const fs = join(work, 'slot.ext4');
  const seekMib = slotExtent(slot, rootMib).seekMib;
  execFileSync('dd', [`if=${disk}`, `of=${fs}`, 'bs=1M', `skip=${seekMib}`, `count=${rootMib}`, 'status=none']);
  const { at: inSlot } = fileBlockOffset(fs, path);
  rmSync(fs, { force: true });
  const at = seekMib * 1024 * 1024 + inSlot + 17;
  flipByte(disk, at, 0x20);
  return at;
}

/**
 * A UKI for `slot` at `version` (the image's kernel, initrd and stub from its build dir), copied
 * onto the disk's ESP with `tries` boot attempts. Returns the PCR 11 value its stub will leave.
 */
export function installUki(
  p: ArchProfile,
  o: { imageDir: string; disk: string; slot: Slot; version: string; tries: number; work: string },
): { file: string; pcr11: string } {
  mkdirSync(o.work, { recursive: true });
  const u = {
    root: join(o.imageDir, 'work', 'root'),
    vmlinuz: join(o.imageDir, 'vmlinuz'),
    initrd: join(o.imageDir, 'initrd.img'),
    cmdline: kernelCmdline(p, o.slot, readJsonFile<{ boot: BootInfo }>(join(o.imageDir, 'manifest.json')).boot.verity),
    version: o.version,
    out: join(o.work, ukiName(o.slot)),
  };
  const parts = makeUki(p, u, o.slot);
  const pcr11 = expectedPcr11(parts, u);
  const file = ukiName(o.slot, o.tries);
  execFileSync('mcopy', ['-o', '-i', `${o.disk}@@1M`, u.out, `::/EFI/Linux/${file}`]);
  return { file, pcr11 };
}

export const readJsonFile = <T>(f: string) => JSON.parse(readFileSync(f, 'utf8')) as T;
