/**
 * The two root slots as the boot loader sees them (runtime/spec/update.md §2): one UKI per slot
 * on the ESP, named by systemd-boot's boot counting scheme, `EFI/Linux/elastos-S[+LEFT[-DONE]].efi`.
 * The file names are the whole state: systemd-boot, systemd-bless-boot and RAUC's custom backend
 * (image-build/overlay/usr/lib/elastos/rauc-bootloader) read and rename the same files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type SlotName = 'a' | 'b';
export const SLOTS: readonly SlotName[] = ['a', 'b'];

/** good: blessed; trying: counted, tries left; bad: no tries left; empty: no entry. */
export type SlotState = 'good' | 'trying' | 'bad' | 'empty';

export interface SlotStatus {
  slot: SlotName;
  state: SlotState;
  /** The entry's file name under EFI/Linux, if any. */
  entry?: string;
  /** The UKI's IMAGE_VERSION (its .osrel section); 0 when unknown. */
  version: number;
  /** Boot attempts left (undefined when blessed or empty). */
  triesLeft?: number;
  triesDone?: number;
  booted: boolean;
}

const ENTRY = /^elastos-([ab])(?:\+(\d+)(?:-(\d+))?)?\.efi$/;

/** Parses one ESP file name; undefined for anything that is not a slot entry. */
export function parseEntry(name: string): { slot: SlotName; left?: number; done?: number } | undefined {
  const m = ENTRY.exec(name);
  if (!m) return undefined;
  const slot = m[1] as SlotName;
  if (m[2] === undefined) return { slot };
  return { slot, left: Number(m[2]), done: m[3] === undefined ? 0 : Number(m[3]) };
}

/** The IMAGE_VERSION in a UKI's .osrel section (plain text inside the PE file); 0 if none. */
export function ukiVersion(file: string): number {
  const m = /IMAGE_VERSION=(\d{1,15})\b/.exec(readFileSync(file).toString('latin1'));
  return m ? Number(m[1]) : 0;
}

/** The booted slot from the measured command line (`rauc.slot=a|b`), or undefined. */
export function bootedSlot(cmdline: string): SlotName | undefined {
  const m = /(?:^|\s)rauc\.slot=([ab])(?:\s|$)/.exec(cmdline);
  return m ? (m[1] as SlotName) : undefined;
}

/** Both slots' states from the ESP directory; `booted` from the kernel command line. */
export function readSlots(esp: string, cmdline: string): SlotStatus[] {
  const dir = join(esp, 'EFI', 'Linux');
  const names = readdirSync(dir).sort();
  const booted = bootedSlot(cmdline);
  return SLOTS.map((slot) => {
    const entry = names.find((n) => parseEntry(n)?.slot === slot);
    if (!entry) return { slot, state: 'empty', version: 0, booted: booted === slot };
    const e = parseEntry(entry) as NonNullable<ReturnType<typeof parseEntry>>;
    const state: SlotState = e.left === undefined ? 'good' : e.left > 0 ? 'trying' : 'bad';
    const counts = e.left === undefined ? {} : { triesLeft: e.left, triesDone: e.done ?? 0 };
    return { slot, state, entry, version: ukiVersion(join(dir, entry)), ...counts, booted: booted === slot };
  });
}

/** The slot systemd-boot boots next: the highest version among entries not out of tries. */
export function nextSlot(slots: SlotStatus[]): SlotName | undefined {
  const bootable = slots.filter((s) => s.state === 'good' || s.state === 'trying');
  bootable.sort((x, y) => y.version - x.version);
  return bootable[0]?.slot;
}
