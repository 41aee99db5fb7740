/**
 * Where the TPM's NV anchor stands in the checkpoint chain (runtime/spec/audit.md §7). Only some
 * checkpoints are extended into NV: the last one of each run of equal `counter` (an anchor
 * point). The NV extend index holds the fold over the anchor points; the counter, the `counter`
 * of the last one anchored. The runtime's start and the verifier both decide with this, in one
 * pass over the checkpoints and keeping only the last run in memory.
 */

import { GENESIS_HASH, sameBytes, toHex } from '@elastos/protocol/audit/record';
import type { SignedCheckpoint } from '@elastos/verifier/audit/checkpoint';
import type { AnchorState } from './anchor.js';
import { foldAnchor } from './checkpoint.js';

export type AnchorPosition =
  /** NV covers every checkpoint. */
  | { kind: 'anchored' }
  /** The last anchor point is extended, the counter not yet incremented (a crash between the two). */
  | { kind: 'unincremented' }
  /** Checkpoints `first`..end follow the last anchor point NV holds: signed and stored, not anchored yet. */
  | { kind: 'open'; first: number }
  /**
   * Checkpoints from `first` do not fit NV: NV holds an older anchor point although later ones
   * were made, or they carry a counter that no anchoring from NV's state would give them.
   */
  | { kind: 'behind'; first: number; why: string }
  /** NV is ahead of the stored checkpoints: the store is an older copy, or checkpoints were cut. */
  | { kind: 'ahead'; why: string };

/** Folds the checkpoints in order; `locate` then compares with the TPM's state. */
export class AnchorFold {
  /** The fold over the closed runs' anchor points, and where the run after each value starts. */
  private closed: Uint8Array = GENESIS_HASH;
  private readonly starts = new Map<string, number>([[toHex(GENESIS_HASH), 0]]);
  private points = 0;
  /** The last run (equal counters): its checkpoints, and the checkpoint before it. */
  run: SignedCheckpoint[] = [];
  beforeRun: SignedCheckpoint | undefined;
  count = 0;

  add(c: SignedCheckpoint): void {
    const open = this.run[this.run.length - 1];
    if (open && open.body.counter !== c.body.counter) {
      this.closed = foldAnchor(this.closed, open.hash);
      this.points++;
      this.starts.set(toHex(this.closed), this.count);
      this.beforeRun = open;
      this.run = [];
    }
    this.run.push(c);
    this.count++;
  }

  get last(): SignedCheckpoint | undefined {
    return this.run[this.run.length - 1];
  }

  /** Compares the TPM's state with the folded chain (§7, §9). */
  locate(state: AnchorState): AnchorPosition {
    const last = this.last;
    if (!last)
      return sameBytes(state.extend, GENESIS_HASH)
        ? { kind: 'anchored' }
        : { kind: 'ahead', why: 'the TPM anchor holds checkpoints but the store has none' };
    const runStart = this.count - this.run.length;
    const want = last.body.counter;
    const counterIs = (expect: string) => `the TPM counter is ${state.counter}, ${expect}`;
    if (sameBytes(state.extend, foldAnchor(this.closed, last.hash))) {
      if (state.counter === want) return { kind: 'anchored' };
      if (state.counter === want - 1) return { kind: 'unincremented' };
      if (state.counter > want) return { kind: 'ahead', why: counterIs(`the last checkpoint expects ${want}`) };
      return { kind: 'behind', first: runStart, why: counterIs(`behind checkpoint ${this.count - 1}`) };
    }
    if (sameBytes(state.extend, this.closed)) {
      if (state.counter === want - 1) return { kind: 'open', first: runStart };
      return {
        kind: 'behind',
        first: runStart,
        why: counterIs(`but checkpoints ${runStart}..${this.count - 1} claim the anchoring that makes it ${want}`),
      };
    }
    const first = this.starts.get(toHex(state.extend));
    if (first !== undefined)
      return { kind: 'behind', first, why: `checkpoints ${first}..${this.count - 1} were never anchored in the TPM` };
    return {
      kind: 'ahead',
      why: `the TPM anchor is ahead of the ${this.count} stored checkpoints (${this.points + 1} anchor points)`,
    };
  }
}
