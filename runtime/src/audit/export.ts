/**
 * Export with inclusion proofs (runtime/spec/audit.md §10): JSON lines an outsider checks
 * with the runtime public key alone (`verifyExport`, `@elastos/verifier/audit/export`).
 */

import { leafHash, merkleLevels, proofFromLevels } from '@elastos/protocol/audit/merkle';
import { decodeRecord, toHex } from '@elastos/protocol/audit/record';
import { type SignedCheckpoint, unpackCheckpoint } from '@elastos/verifier/audit/checkpoint';
import type { ExportLine } from '@elastos/verifier/audit/export';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { CHECKPOINT_PREFIX, RECORD_PREFIX, range, unpackRecord } from './layout.js';

async function* checkpointsOver(store: Store, from: number, to: number): AsyncGenerator<SignedCheckpoint> {
  for await (const [, value] of store.ns('audit').iterator(range(CHECKPOINT_PREFIX))) {
    const c = unpackCheckpoint(value);
    if (c.body.to >= from && c.body.from <= to) yield c;
    if (c.body.from > to) return;
  }
}

/** The lines of records `from..to` that a signed checkpoint covers (later ones have no proof yet). */
export async function exportRange(store: Store, from: number, to: number): Promise<ExportLine[]> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from)
    throw new ElastosError('E_USAGE', `bad range ${from}..${to}`);
  const lines: ExportLine[] = [];
  for await (const c of checkpointsOver(store, from, to)) {
    const { index } = c.body;
    lines.push({
      kind: 'checkpoint',
      index,
      from: c.body.from,
      to: c.body.to,
      body: toHex(c.bodyBytes),
      sig: toHex(c.sig),
      hash: toHex(c.hash),
      keyId: c.body.keyId,
    });
    const bytes: Uint8Array[] = [];
    for await (const [, value] of store.ns('audit').iterator(range(RECORD_PREFIX, c.body.from, c.body.to)))
      bytes.push(Uint8Array.from(unpackRecord(value, c.body.from + bytes.length).bytes));
    if (bytes.length !== c.body.count)
      throw new ElastosError('E_NOT_FOUND', `records of checkpoint ${index} are pruned or missing: cannot prove them`);
    const levels = merkleLevels(bytes.map(leafHash));
    for (let seq = Math.max(from, c.body.from); seq <= Math.min(to, c.body.to); seq++) {
      const b = bytes[seq - c.body.from] as Uint8Array;
      const proof = proofFromLevels(levels, seq - c.body.from).map(toHex);
      lines.push({ kind: 'record', seq, checkpoint: index, cbor: toHex(b), proof, record: decodeRecord(b) });
    }
  }
  if (!lines.some((l) => l.kind === 'record'))
    throw new ElastosError('E_NOT_FOUND', `no checkpointed records in ${from}..${to}`);
  return lines;
}
