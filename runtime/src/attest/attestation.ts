import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Quote, Tpm } from '@elastos/node-tpm2';
import { type AttestationFiles, akPem, BOOT_PCR } from '@elastos/verifier/attest/attestation';
import type { EventLogFile } from '@elastos/verifier/attest/event-log';
import { parseQuote } from '@elastos/verifier/attest/tpm-structs';

/** The attestation directory's format (`attestation.json` `version`; runtime/spec/boot.md §5). */
export const ATTESTATION_VERSION = 2;

/** Reads and quotes again when a PCR moved in between (systemd-pcrphase extends PCR 11 at its phases). */
const ATTEMPTS = 3;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Quotes PCR 11 (the boot chain's, runtime/spec/boot.md §1.1) and the runtime PCR in one
 * TPM2_Quote with `nonce`, and packs the quote with their values and the event log that explains
 * the runtime PCR.
 */
export async function makeAttestation(
  tpm: Tpm,
  pcr: number,
  nonce: Uint8Array,
  eventLog: EventLogFile,
): Promise<AttestationFiles> {
  const pcrs = [BOOT_PCR, pcr];
  const take = () =>
    tpm.exclusive(async (ops) => ({
      values: Buffer.concat([await ops.pcrRead(BOOT_PCR), await ops.pcrRead(pcr)]),
      quote: await ops.quote(pcrs, nonce),
    }));
  const consistent = (s: { values: Buffer; quote: Quote }) =>
    Buffer.compare(createHash('sha256').update(s.values).digest(), parseQuote(s.quote.attest).pcrDigest) === 0;
  // The values are read beside the quote, not from it (a quote carries only their digest); if
  // one moved in between, the digest tells, and the next attempt reads them again.
  let shot = await take();
  for (let attempt = 1; attempt < ATTEMPTS && !consistent(shot); attempt++) shot = await take();
  const { values, quote } = shot;
  const meta = {
    version: ATTESTATION_VERSION,
    pcr,
    pcrs,
    pcrList: `sha256:${pcrs.join(',')}`,
    nonce: hex(nonce),
    pcrValue: hex(values.subarray(32)),
    pcr11: hex(values.subarray(0, 32)),
  };
  return {
    'quote.msg': quote.attest,
    'quote.sig': quote.signature,
    'ak.pub': quote.akPublic,
    'ak.pem': Buffer.from(akPem(quote.akPublic)),
    'pcrs.values': values,
    'eventlog.json': Buffer.from(`${JSON.stringify(eventLog, null, 1)}\n`),
    'attestation.json': Buffer.from(`${JSON.stringify(meta)}\n`),
  };
}

export function writeAttestation(dir: string, files: Partial<AttestationFiles>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
}
