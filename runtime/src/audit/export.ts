/**
 * Export with inclusion proofs (runtime/spec/audit.md §10): JSON lines an outsider checks
 * with the runtime public key alone, and the outsider's check itself.
 */

import { leafHash, merkleLevels, proofFromLevels, rootFromProof } from '@elastos/protocol/audit/merkle';
import {
  type AuditRecord,
  decodeRecord,
  encodeRecord,
  fromHex,
  sameBytes,
  toHex,
} from '@elastos/protocol/audit/record';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { AuditFault } from './audit-fault.js';
import { decodeBody, type SignedCheckpoint, unpackCheckpoint } from './checkpoint.js';
import { AuditKeyring } from './keyring.js';
import { CHECKPOINT_PREFIX, RECORD_PREFIX, range, unpackRecord } from './layout.js';

export interface CheckpointLine {
  kind: 'checkpoint';
  index: number;
  from: number;
  to: number;
  body: string;
  sig: string;
  hash: string;
  /** Which runtime key signed it (keyIdOf its public key). */
  keyId: string;
}

export interface RecordLine {
  kind: 'record';
  seq: number;
  checkpoint: number;
  cbor: string;
  proof: string[];
  record: AuditRecord;
}

export type ExportLine = CheckpointLine | RecordLine;

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

/**
 * The outsider's check: every checkpoint signed by one of `publicKeys` (the runtime keys the
 * outsider trusts), every record line's proof leads to its checkpoint's root. Throws an
 * AuditFault at the first bad line.
 */
export async function verifyExport(
  lines: readonly ExportLine[],
  publicKeys: readonly Uint8Array[],
): Promise<{ checkpoints: number; records: number }> {
  const keyring = new AuditKeyring(publicKeys);
  const cps = new Map<number, SignedCheckpoint>();
  let records = 0;
  for (const line of lines) {
    if (line.kind === 'checkpoint') {
      let c: SignedCheckpoint;
      try {
        const bodyBytes = fromHex(line.body);
        c = { body: decodeBody(bodyBytes), bodyBytes, sig: fromHex(line.sig), hash: new Uint8Array() };
      } catch (err) {
        throw new AuditFault('E_AUDIT_CHECKPOINT', line.from, (err as Error).message);
      }
      const why = await keyring.check(c);
      if (why) throw new AuditFault('E_AUDIT_CHECKPOINT', c.body.from, `checkpoint ${c.body.index}: ${why}`);
      cps.set(c.body.index, c);
      continue;
    }
    const c = cps.get(line.checkpoint);
    if (!c) throw new AuditFault('E_AUDIT_CHECKPOINT', line.seq, `no signed checkpoint ${line.checkpoint} before it`);
    const bytes = fromHex(line.cbor);
    const root = rootFromProof(leafHash(bytes), line.seq - c.body.from, c.body.count, line.proof.map(fromHex));
    if (!root || !sameBytes(root, c.body.root))
      throw new AuditFault('E_AUDIT_CHAIN', line.seq, `record does not prove into checkpoint ${c.body.index}`);
    if (decodeRecord(bytes).seq !== line.seq)
      throw new AuditFault('E_AUDIT_CHAIN', line.seq, 'record carries another seq');
    // The readable copy must say exactly what the proven bytes say.
    if (!sameBytes(encodeRecord(line.record), bytes))
      throw new AuditFault('E_AUDIT_CHAIN', line.seq, 'the readable record differs from its proven bytes');
    records++;
  }
  return { checkpoints: cps.size, records };
}
