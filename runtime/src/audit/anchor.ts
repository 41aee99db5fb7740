/**
 * Where checkpoints are anchored (runtime/spec/audit.md §7): an NV extend index and an NV
 * monotonic counter. Implementations: the node-tpm2 binding, or stock tpm2-tools.
 */
export interface AnchorState {
  /** The extend index's value: 32 zero bytes until the first extend. */
  extend: Uint8Array;
  /** The counter's value (a TPM counter starts at the highest value any counter ever had). */
  counter: number;
}

export interface AuditAnchor {
  /** TPM2_NV_Extend of the extend index with a checkpoint hash. */
  extend(hash: Uint8Array): Promise<void>;
  /** TPM2_NV_Increment of the counter. */
  increment(): Promise<void>;
  read(): Promise<AnchorState>;
}

/** NV indices of the anchor (config `audit.nvExtendIndex` / `audit.nvCounterIndex`). */
export interface AnchorIndices {
  extendIndex: number;
  counterIndex: number;
}

/** 8 big-endian bytes of a TPM counter as a number (safe far beyond any real count of increments). */
export function counterValue(bytes: Uint8Array): number {
  if (bytes.length !== 8) throw new RangeError(`an NV counter has 8 bytes, not ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Number(view.getBigUint64(0));
}
