/**
 * One TPM NV monotonic counter on the runtime's TPM connection (TPM 2.0 Part 3 §31.8): the floor
 * of the token epoch (runtime/spec/token.md §8.1). It only goes up, and what is on the disk
 * cannot lower it. Same attributes as the audit anchor's counter (owner and index auth, NODA);
 * each call runs in the TPM queue, so it never interleaves with a measurement or an anchoring.
 */
import { rcBase, type Tpm, type TpmError } from '@elastos/node-tpm2';

/** TPM_RC_HANDLE (no such index) and TPM_RC_NV_UNINITIALIZED (never written), Part 2 §6.6. */
const RC_HANDLE = 0x08b;
const RC_NV_UNINITIALIZED = 0x14a;

const isRc = (err: unknown, rc: number) => {
  const e = err as TpmError;
  return e?.code === 'E_TPM_COMMAND' && rcBase(e.rc) === rc;
};

export class TpmNvCounter {
  private constructor(
    private readonly tpm: Tpm,
    readonly index: number,
  ) {}

  /** Defines the counter when missing; a fresh one is incremented once so that it reads. */
  static async open(tpm: Tpm, index: number): Promise<TpmNvCounter> {
    await tpm.exclusive(async (ops) => {
      try {
        await ops.nvReadCounter(index);
      } catch (err) {
        if (isRc(err, RC_HANDLE)) await ops.nvDefine(index, 'counter');
        else if (!isRc(err, RC_NV_UNINITIALIZED)) throw err;
        await ops.nvIncrement(index);
      }
    });
    return new TpmNvCounter(tpm, index);
  }

  async read(): Promise<number> {
    return Number(await this.tpm.nvReadCounter(this.index));
  }

  /** Increments, then reads, with no other TPM call between: the value this increment made. */
  increment(): Promise<number> {
    return this.tpm.exclusive(async (ops) => {
      await ops.nvIncrement(this.index);
      return Number(await ops.nvReadCounter(this.index));
    });
  }
}
