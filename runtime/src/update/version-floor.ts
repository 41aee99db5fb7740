/**
 * The version floor (runtime/spec/update.md §4): the lowest release version the box accepts,
 * kept in the TPM so that neither a restored data partition nor a reflashed disk lowers it.
 *
 * A TPM NV counter only goes up by one, and a new counter starts at the highest value any
 * counter on that TPM ever had (not 0). So the floor is the difference of two counters defined
 * together: `floor = F − B`. B (the base) is incremented once, when both are defined; F is
 * incremented up to the new floor when a release has been marked good. Both live in the TPM's NV:
 * a reflash leaves them. Without a TPM (dev profile) there is no floor (`undefined`).
 */

import { rcBase, type Tpm, type TpmError } from '@elastos/node-tpm2';
import { TpmNvCounter } from '../boot/nv-counter.js';
import { ElastosError } from '../errors/index.js';

/** A release version is at most this (each step of the floor is one NV increment). */
export const MAX_VERSION = 1_000_000;

export interface FloorCounters {
  floor: TpmNvCounter;
  base: TpmNvCounter;
}

/** What the update service needs of the floor. */
export interface Floor {
  read(): Promise<number>;
  raiseTo(version: number): Promise<number>;
}

export class VersionFloor implements Floor {
  private constructor(private readonly c: FloorCounters) {}

  /**
   * Opens the pair; defines both on first use (the base first). The base is never defined again
   * once the floor exists: a missing base then means it was undefined (owner authorisation), and
   * a new one would read as a lower floor, so that is refused (E_UPDATE_FLOOR), as is a floor
   * counter below its base.
   */
  static async open(tpm: Tpm, floorIndex: number, baseIndex: number): Promise<VersionFloor> {
    if ((await defined(tpm, floorIndex)) && !(await defined(tpm, baseIndex)))
      throw new ElastosError('E_UPDATE_FLOOR', `the floor's base counter ${hex(baseIndex)} was removed`);
    const base = await TpmNvCounter.open(tpm, baseIndex);
    const floor = await TpmNvCounter.open(tpm, floorIndex);
    const f = new VersionFloor({ floor, base });
    await f.read();
    return f;
  }

  async read(): Promise<number> {
    const b = await this.c.base.read();
    const f = await this.c.floor.read();
    if (f < b)
      throw new ElastosError('E_UPDATE_FLOOR', `floor counter ${f} below its base ${b}: a counter was redefined`);
    return f - b;
  }

  /** Raises the floor to `version` (never lowers it); returns the floor after. */
  async raiseTo(version: number): Promise<number> {
    if (!Number.isInteger(version) || version < 0 || version > MAX_VERSION)
      throw new ElastosError('E_UPDATE_INVALID', `version ${version} is outside 0..${MAX_VERSION}`);
    let now = await this.read();
    while (now < version) {
      await this.c.floor.increment();
      now = await this.read();
    }
    return now;
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** Whether an NV index exists (TPM_RC_HANDLE: it does not; never written still exists). */
async function defined(tpm: Tpm, index: number): Promise<boolean> {
  try {
    await tpm.nvReadCounter(index);
    return true;
  } catch (err) {
    const e = err as TpmError;
    if (e?.code === 'E_TPM_COMMAND' && rcBase(e.rc) === 0x08b) return false;
    return true;
  }
}
