/**
 * RFC 6962 §2.1 Merkle tree hash over a checkpoint's range of records, and §2.1.1 audit paths.
 * Leaves are the canonical record bytes (runtime/spec/audit.md §6).
 */
import { createHash } from 'node:crypto';

export const leafHash = (data: Uint8Array): Uint8Array => createHash('sha256').update(LEAF).update(data).digest();
const nodeHash = (l: Uint8Array, r: Uint8Array): Uint8Array =>
  createHash('sha256').update(NODE).update(l).update(r).digest();
const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/**
 * All levels of the tree, leaves first. Pairing bottom-up and letting a last odd node rise
 * unchanged builds exactly RFC 6962's tree (left subtree = largest power of two below n).
 */
export function merkleLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leaves.slice()];
  let level = levels[0] as Uint8Array[];
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) up.push(level[level.length - 1] as Uint8Array);
    levels.push(up);
    level = up;
  }
  return levels;
}

/** MTH over leaf hashes (already through leafHash); the empty tree is SHA-256 of nothing. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return createHash('sha256').digest();
  const levels = merkleLevels(leaves);
  return (levels[levels.length - 1] as Uint8Array[])[0] as Uint8Array;
}

/** The audit path of leaf `m` (RFC 6962 §2.1.1 PATH(m, D[n])), read from the tree's levels. */
export function proofFromLevels(levels: readonly Uint8Array[][], m: number): Uint8Array[] {
  const size = levels[0]?.length ?? 0;
  if (!Number.isSafeInteger(m) || m < 0 || m >= size) throw new RangeError(`leaf ${m} is outside the tree`);
  const path: Uint8Array[] = [];
  let i = m;
  for (const level of levels.slice(0, -1)) {
    const sibling = i ^ 1;
    if (sibling < level.length) path.push(level[sibling] as Uint8Array);
    i = Math.floor(i / 2);
  }
  return path;
}

export const inclusionProof = (m: number, leaves: readonly Uint8Array[]): Uint8Array[] =>
  proofFromLevels(merkleLevels(leaves), m);

/**
 * Recomputes the root from a leaf hash, its index, the tree size and its audit path
 * (RFC 9162 §2.1.3.2); returns undefined when the path has the wrong length.
 */
export function rootFromProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}
