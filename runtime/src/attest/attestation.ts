import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tpm } from '@elastos/node-tpm2';
import { type AttestationFiles, akPem } from '@elastos/verifier/attest/attestation';
import type { EventLogFile } from '@elastos/verifier/attest/event-log';

/** Quotes the PCR with `nonce` and packs the quote with the event log that explains it. */
export async function makeAttestation(
  tpm: Tpm,
  pcr: number,
  nonce: Uint8Array,
  eventLog: EventLogFile,
): Promise<AttestationFiles> {
  const { value, quote } = await tpm.exclusive(async (ops) => ({
    value: await ops.pcrRead(pcr),
    quote: await ops.quote(pcr, nonce),
  }));
  const meta = { version: 1, pcr, pcrList: `sha256:${pcr}`, nonce: Buffer.from(nonce).toString('hex') };
  return {
    'quote.msg': quote.attest,
    'quote.sig': quote.signature,
    'ak.pub': quote.akPublic,
    'ak.pem': Buffer.from(akPem(quote.akPublic)),
    'pcrs.values': value,
    'eventlog.json': Buffer.from(`${JSON.stringify(eventLog, null, 1)}\n`),
    'attestation.json': Buffer.from(`${JSON.stringify({ ...meta, pcrValue: Buffer.from(value).toString('hex') })}\n`),
  };
}

export function writeAttestation(dir: string, files: Partial<AttestationFiles>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
}
