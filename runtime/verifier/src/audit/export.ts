/**
 * Export with inclusion proofs (runtime/spec/audit.md §10): the JSON lines an outsider checks
 * with the runtime public key alone, and the outsider's check itself. The runtime makes them
 * (`exportRange`, runtime/src/audit/export.ts).
 */

import { leafHash, rootFromProof } from '@elastos/protocol/audit/merkle';
import { type AuditRecord, decodeRecord, encodeRecord, fromHex, sameBytes } from '@elastos/protocol/audit/record';
import { AuditFault } from './audit-fault.js';
import { decodeBody, type SignedCheckpoint } from './checkpoint.js';
import { AuditKeyring } from './keyring.js';

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
