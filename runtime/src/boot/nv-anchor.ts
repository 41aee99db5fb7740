import { rcBase, type Tpm, type TpmError } from '@elastos/node-tpm2';

/** TPM_RC_HANDLE (no such index) and TPM_RC_NV_UNINITIALIZED (never written), Part 2 §6.6. */
const RC_HANDLE = 0x08b;
const RC_NV_UNINITIALIZED = 0x14a;

export interface NvAnchorState {
  /** The extend index's value: 32 zero bytes until the first extend. */
  extend: Uint8Array;
  counter: number;
}

function isRc(err: unknown, rc: number): boolean {
  const e = err as TpmError;
  return e?.code === 'E_TPM_COMMAND' && rcBase(e.rc) === rc;
}

/**
 * An NV extend index and an NV monotonic counter on the runtime's own TPM connection, for the
 * audit trail's checkpoints (runtime/spec/audit.md §7): in-process and in the TPM queue, so an
 * anchor never interleaves with a measurement. Same index attributes as the tools anchor
 * (owner and index auth, NODA), so either can read what the other wrote.
 */
export class TpmNvAnchor {
  private constructor(
    private readonly tpm: Tpm,
    readonly extendIndex: number,
    readonly counterIndex: number,
  ) {}

  /** Defines the two indices when missing; a fresh counter is incremented once so it reads. */
  static async open(tpm: Tpm, indices: { extendIndex: number; counterIndex: number }): Promise<TpmNvAnchor> {
    const anchor = new TpmNvAnchor(tpm, indices.extendIndex, indices.counterIndex);
    await tpm.exclusive(async (ops) => {
      for (const [index, kind] of [
        [indices.extendIndex, 'extend'],
        [indices.counterIndex, 'counter'],
      ] as const) {
        try {
          await ops.nvRead(index);
        } catch (err) {
          if (isRc(err, RC_HANDLE)) await ops.nvDefine(index, kind);
          else if (!isRc(err, RC_NV_UNINITIALIZED)) throw err;
          if (kind === 'counter') await ops.nvIncrement(index);
        }
      }
    });
    return anchor;
  }

  extend(hash: Uint8Array): Promise<void> {
    return this.tpm.nvExtend(this.extendIndex, hash);
  }

  increment(): Promise<void> {
    return this.tpm.nvIncrement(this.counterIndex);
  }

  read(): Promise<NvAnchorState> {
    return this.tpm.exclusive(async (ops) => {
      const extend = await ops.nvRead(this.extendIndex).catch((err: unknown) => {
        if (isRc(err, RC_NV_UNINITIALIZED)) return new Uint8Array(32);
        throw err;
      });
      return { extend, counter: Number(await ops.nvReadCounter(this.counterIndex)) };
    });
  }
}
