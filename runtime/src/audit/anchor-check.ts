/**
 * Compares the stored checkpoints with the TPM anchor and completes an anchoring that a crash
 * interrupted (runtime/spec/audit.md §7). Anything else that differs is E_AUDIT_ROLLBACK.
 */

import { GENESIS_HASH, sameBytes, toHex } from '@elastos/protocol/audit/record';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import type { AuditAnchor } from './anchor.js';
import { foldAnchor, type SignedCheckpoint, unpackCheckpoint } from './checkpoint.js';
import { CHECKPOINT_PREFIX, range } from './layout.js';

/** The anchored value over every stored checkpoint, the value before the last one, and the last. */
export async function foldStoredCheckpoints(
  store: Store,
): Promise<{ value: Uint8Array; before: Uint8Array; last: SignedCheckpoint | undefined }> {
  let value = GENESIS_HASH;
  let before = GENESIS_HASH;
  let last: SignedCheckpoint | undefined;
  for await (const [, v] of store.ns('audit').iterator(range(CHECKPOINT_PREFIX))) {
    last = unpackCheckpoint(v);
    before = value;
    value = foldAnchor(value, last.hash);
  }
  return { value, before, last };
}

/** Brings the TPM level with the store when it is one step behind; returns the TPM counter's value. */
export async function reconcileAnchor(store: Store, anchor: AuditAnchor): Promise<number> {
  const { value, before, last } = await foldStoredCheckpoints(store);
  const state = await anchor.read();
  if (!sameBytes(state.extend, value)) {
    if (!last || !sameBytes(state.extend, before))
      throw new ElastosError(
        'E_AUDIT_ROLLBACK',
        `the TPM anchor ${toHex(state.extend).slice(0, 16)}... does not match the ${last ? last.body.index + 1 : 0} stored checkpoints: the store is not the one the TPM anchored`,
      );
    await anchor.extend(last.hash); // stored, then the runtime stopped before the extend
  }
  if (!last) return state.counter;
  if (state.counter === last.body.counter - 1) {
    await anchor.increment(); // extended, then the runtime stopped before the increment
    return last.body.counter;
  }
  if (state.counter !== last.body.counter)
    throw new ElastosError(
      'E_AUDIT_ROLLBACK',
      `the TPM counter is ${state.counter} but checkpoint ${last.body.index} expects ${last.body.counter}`,
    );
  return state.counter;
}
