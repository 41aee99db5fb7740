/**
 * The boot test's checks of the boot chain (image-build/README.md, "Boot chain"): which systemd-boot
 * entry booted and whether its tries were counted, PCR 11 against the value the manifest predicts
 * for that slot's UKI, the boot assessment's verdict, and systemd-bless-boot marking the entry good.
 * All read from the guest's console (elastos-boot-health prints them) or the disk's ESP.
 */
import type { QemuBox } from './qemu-box.js';
import { espEntries } from './slot-rig.js';
import type { Checks } from './test-report.js';
import type { BootInfo, Slot } from './uki.js';

const BOOT_MS = 15 * 60_000;

/** The health unit's first line: `booted entry ID, tries counted at PATH|not counted; PCR 11 HEX`. */
export const ENTRY_LINE =
  /elastos-boot-health: booted entry (\S+?)(?:, tries counted at (\S+)|, not counted \(blessed\)); PCR 11 (\S+)/g;

export interface BootSeen {
  entry: string;
  counted: boolean;
  pcr11: string;
}

/** Every boot the console shows so far, in order. */
export function bootsSeen(consoleText: string): BootSeen[] {
  return [...consoleText.matchAll(ENTRY_LINE)].map((m) => ({
    entry: m[1] ?? '',
    counted: m[2] !== undefined,
    pcr11: m[3] ?? '',
  }));
}

/**
 * Waits until the console shows the n-th boot's entry line, counting only the boots `match` accepts
 * (QEMU exiting or the time limit fail it). `index` is its place among all the entry lines.
 */
export async function waitForBoot(
  b: QemuBox,
  nth: number,
  ms: number,
  match: (s: BootSeen) => boolean = () => true,
): Promise<BootSeen & { index: number }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const all = bootsSeen(b.consoleText());
    const hits = all.map((s, index) => ({ ...s, index: index + 1 })).filter(match);
    const s = hits[nth - 1];
    if (s) return s;
    if (b.qemu?.exitCode !== null || Date.now() > deadline) {
      throw new Error(`boot ${nth} never showed its entry line; last lines:\n${b.consoleTail(30)}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export const pcr11Of = (boot: BootInfo, slot: Slot) => boot.slots.find((s) => s.slot === slot)?.pcr11 ?? '';

/** The checks of one boot of `slot` (the n-th boot the console shows), through to its verdict. */
export async function chainChecks(
  checks: Checks,
  b: QemuBox,
  o: { label: string; slot: Slot; counted: boolean; pcr11: string; nth?: number },
): Promise<void> {
  const nth = o.nth ?? 1;
  const seen = await checks.run(
    `${o.label}: UEFI firmware → systemd-boot → slot ${o.slot.toUpperCase()}'s UKI`,
    async () => {
      const s = await waitForBoot(b, nth, BOOT_MS);
      if (!s?.entry.startsWith(`elastos-${o.slot}`)) throw new Error(`booted ${s?.entry}`);
      if (s.counted !== o.counted) throw new Error(`entry ${s.entry} counted=${s.counted}, expected ${o.counted}`);
      return { detail: `${s.entry}, ${s.counted ? 'tries counted' : 'blessed: not counted'}`, value: s };
    },
  );
  if (typeof seen !== 'object' || seen === null) return;
  await checks.run(`${o.label}: PCR 11 is what systemd-measure predicts for the slot's UKI`, async () => {
    if (seen.pcr11 !== o.pcr11) throw new Error(`PCR 11 ${seen.pcr11}, expected ${o.pcr11}`);
    return `PCR 11 ${seen.pcr11.slice(0, 16)}…`;
  });
  await checks.run(`${o.label}: boot assessment says good (runtime up, key unsealed, capsules, health)`, async () =>
    (await b.waitForConsole(/elastos-boot-health: boot is good: .*/, BOOT_MS))[0].slice(0, 160),
  );
  if (!o.counted) return;
  await checks.run(
    `${o.label}: systemd-bless-boot marks the entry good`,
    async () =>
      (await b.waitForConsole(/elastos-boot-health: systemd-bless-boot marked the entry good: .*/, 120_000))[0],
  );
}

/** After the box stopped: the ESP's entries are exactly `expected`. */
export async function espChecks(checks: Checks, label: string, disk: string, expected: string[]): Promise<void> {
  await checks.run(`${label}: the ESP's entries are ${expected.join(' ')}`, async () => {
    const got = espEntries(disk);
    if (got.join(' ') !== [...expected].sort().join(' ')) throw new Error(`ESP has ${got.join(' ')}`);
    return got.join(' ');
  });
}
