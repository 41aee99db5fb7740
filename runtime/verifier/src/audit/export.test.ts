import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inclusionProof, leafHash } from '@elastos/protocol/audit/merkle';
import { decodeRecord, fromHex, toHex } from '@elastos/protocol/audit/record';
import { ElastosError } from '@elastos/protocol/errors';
import { keyIdOf } from '@elastos/protocol/keys/key-id';
import { getPublicKeyAsync, utils } from '@noble/ed25519';
import fc from 'fast-check';
import { AuditFault } from './audit-fault.js';
import { decodeBody, sha256 } from './checkpoint.js';
import { type ExportLine, type RecordLine, verifyExport } from './export.js';

interface Vectors {
  records: Array<{ cbor: string }>;
  checkpoints: { publicKey: string; list: Array<{ body: string; sig: string }> };
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../spec/audit-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const publicKey = fromHex(vectors.checkpoints.publicKey);

/** The export lines of the vectors (spec/audit.md §10), made here from the spec alone. */
function exportOfVectors(): ExportLine[] {
  const lines: ExportLine[] = [];
  for (const c of vectors.checkpoints.list) {
    const body = decodeBody(fromHex(c.body));
    const { index, from, to } = body;
    const hash = toHex(sha256(fromHex(c.body)));
    lines.push({ kind: 'checkpoint', index, from, to, body: c.body, sig: c.sig, hash, keyId: body.keyId });
    const cbors = vectors.records.slice(from, to + 1).map((r) => fromHex(r.cbor));
    const leaves = cbors.map(leafHash);
    cbors.forEach((cbor, m) => {
      const proof = inclusionProof(m, leaves).map(toHex);
      lines.push({
        kind: 'record',
        seq: from + m,
        checkpoint: index,
        cbor: toHex(cbor),
        proof,
        record: decodeRecord(cbor),
      });
    });
  }
  return lines;
}

const faultAt = (seq: number, code: string) => (e: unknown) =>
  e instanceof AuditFault && e.seq === seq && e.code === code;

describe('verifier: audit export and inclusion proofs (spec/audit.md §10)', () => {
  it('accepts the vectors with the runtime public key alone', async () => {
    assert.equal(keyIdOf(publicKey), decodeBody(fromHex(vectors.checkpoints.list[0]?.body ?? '')).keyId);
    assert.deepEqual(await verifyExport(exportOfVectors(), [publicKey]), { checkpoints: 2, records: 4 });
  });

  it('refuses checkpoints under a key the outsider does not trust', async () => {
    const other = await getPublicKeyAsync(utils.randomSecretKey());
    await assert.rejects(verifyExport(exportOfVectors(), [other]), faultAt(0, 'E_AUDIT_CHECKPOINT'));
  });

  it('refuses a record whose checkpoint does not come first', async () => {
    const lines = exportOfVectors().slice(1);
    await assert.rejects(verifyExport(lines, [publicKey]), faultAt(0, 'E_AUDIT_CHECKPOINT'));
  });

  it("refuses another record's proof and a readable copy that differs from the proven bytes", async () => {
    const swapped = exportOfVectors();
    const [r0, r1] = swapped.filter((l): l is RecordLine => l.kind === 'record') as [RecordLine, RecordLine];
    r1.proof = r0.proof;
    await assert.rejects(verifyExport(swapped, [publicKey]), faultAt(1, 'E_AUDIT_CHAIN'));
    const edited = exportOfVectors();
    const e0 = edited.find((l) => l.kind === 'record' && l.seq === 0) as RecordLine;
    e0.record = { ...e0.record, actor: 'admin:0' };
    await assert.rejects(verifyExport(edited, [publicKey]), faultAt(0, 'E_AUDIT_CHAIN'));
  });

  it('catches any one changed hex digit of a checkpoint, a record or a proof, with a code', async () => {
    const fields = ['body', 'sig', 'cbor', 'proof'] as const;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.constantFrom(...fields), fc.nat(), fc.nat({ max: 14 }), async (l, f, at, d) => {
        const lines = exportOfVectors();
        const line = lines[l % lines.length] as unknown as Record<string, string | string[]>;
        const value = line[f];
        if (value === undefined || value.length === 0) return;
        const flip = (hex: string, i: number) => {
          const old = Number.parseInt(hex[i] as string, 16);
          return `${hex.slice(0, i)}${((old + 1 + d) % 16).toString(16)}${hex.slice(i + 1)}`;
        };
        if (Array.isArray(value)) {
          const k = at % value.length;
          value[k] = flip(value[k] as string, Math.floor(at / value.length) % (value[k] as string).length);
        } else line[f] = flip(value, at % value.length);
        await assert.rejects(
          verifyExport(lines, [publicKey]),
          (e) => e instanceof ElastosError && e.code.startsWith('E_AUDIT_'),
        );
      }),
      { numRuns: 300 },
    );
  });
});
