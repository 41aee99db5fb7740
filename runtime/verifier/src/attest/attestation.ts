import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElastosError } from '@elastos/protocol/errors';
import { type EventLogFile, parseEventLog, replay } from './event-log.js';
import { parseEccPublic, parseEcdsaSignature, parseQuote } from './tpm-structs.js';

/** The files of an attestation directory (runtime/spec/boot.md §Attestation). */
export const ATTESTATION_FILES = [
  'quote.msg',
  'quote.sig',
  'ak.pub',
  'ak.pem',
  'pcrs.values',
  'eventlog.json',
  'attestation.json',
] as const;
export type AttestationFiles = Record<(typeof ATTESTATION_FILES)[number], Uint8Array>;

/**
 * PCR 11: what systemd-stub measured of the unified kernel image and systemd-pcrphase since
 * (runtime/spec/boot.md §1.1); not resettable at run time. Quoted beside the runtime PCR.
 */
export const BOOT_PCR = 11;

export interface VerifiedAttestation {
  /** The runtime's PCR (the event log's). */
  pcr: number;
  /** The quote's selection, SHA-256 bank, ascending: `[11, pcr]`, or `[pcr]` from a runtime before PCR 11 was quoted. */
  pcrs: number[];
  /** The runtime PCR's value, which the event log replays to. */
  pcrValue: string;
  /** PCR 11 as quoted (pcrs.values); absent when the quote does not cover it. */
  pcr11?: string;
  nonce: string;
  akName: string;
  resetCount: number;
  events: EventLogFile['events'];
}

/** The AK as PEM (SPKI), as `ak.pem` carries it for tpm2_checkquote. */
export function akPem(akPublic: Uint8Array): string {
  const { x, y } = parseEccPublic(akPublic);
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: Buffer.from(x).toString('base64url'),
    y: Buffer.from(y).toString('base64url'),
  };
  try {
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    throw new ElastosError('E_ATTEST_INVALID', 'ak.pub is not a point on P-256');
  }
}

/** TPM_RH_ENDORSEMENT: the AK is a primary key of the endorsement hierarchy (node-tpm2 templates). */
const TPM_RH_ENDORSEMENT = Buffer.from([0x40, 0x00, 0x00, 0x0b]);

/** The qualified name of a primary under the endorsement hierarchy (Part 1 §16.6): H(QN(hierarchy) || name). */
function endorsementPrimaryQn(name: Uint8Array): Uint8Array {
  const h = createHash('sha256').update(TPM_RH_ENDORSEMENT).update(name).digest();
  return Buffer.concat([Buffer.from([0x00, 0x0b]), h]);
}

function readPart(dir: string, name: string): Uint8Array {
  try {
    return readFileSync(join(dir, name));
  } catch {
    throw new ElastosError('E_ATTEST_INVALID', `${name} is missing from ${dir}`);
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The quoted PCRs: one SHA-256 selection, the runtime PCR alone or PCR 11 then it; else E_ATTEST_INVALID. */
function quotedPcrs(sel: ReturnType<typeof parseQuote>['selections']): { pcrs: number[]; pcr: number } {
  const pcrs = sel.length === 1 && sel[0]?.hash === 0x000b ? sel[0].pcrs : [];
  const pcr = pcrs[pcrs.length - 1];
  const shape = pcrs.length === 1 || (pcrs.length === 2 && pcrs[0] === BOOT_PCR);
  if (pcr === undefined || pcr === BOOT_PCR || !shape) {
    throw new ElastosError(
      'E_ATTEST_INVALID',
      `the quote must cover the runtime PCR, alone or with PCR ${BOOT_PCR}, in the SHA-256 bank`,
    );
  }
  return { pcrs, pcr };
}

/**
 * Checks an attestation directory with no TPM: the quote's ECDSA signature by the AK, the
 * quote's signer is that AK, the nonce (when given), the PCR digest against pcrs.values (PCR 11
 * as claimed, then the runtime PCR), and the event log replayed to the quoted runtime PCR value:
 * together, the quote's digest is H(PCR 11 || the event log's replay). The AK itself is trusted
 * as given (pin it). What PCR 11 means is the release's to say (`checkRelease`).
 */
export function verifyAttestation(dir: string, options: { nonce?: Uint8Array } = {}): VerifiedAttestation {
  const attest = readPart(dir, 'quote.msg');
  const quote = parseQuote(attest);
  const akPublic = readPart(dir, 'ak.pub');
  const ak = parseEccPublic(akPublic);
  const key = createPublicKey(akPem(akPublic));
  const sig = parseEcdsaSignature(readPart(dir, 'quote.sig'));
  if (!verify('sha256', attest, { key, dsaEncoding: 'ieee-p1363' }, sig)) {
    throw new ElastosError('E_ATTEST_INVALID', 'the quote signature does not verify with the attestation key');
  }
  if (Buffer.compare(quote.signerName, endorsementPrimaryQn(ak.name)) !== 0) {
    throw new ElastosError('E_ATTEST_INVALID', 'the quote was signed by another key');
  }
  if (options.nonce && Buffer.compare(quote.nonce, options.nonce) !== 0) {
    throw new ElastosError('E_ATTEST_NONCE', 'the quote does not carry the expected nonce (stale or replayed)');
  }
  const { pcrs, pcr } = quotedPcrs(quote.selections);
  // tpm2-tools' "values" format: the selected PCRs' values, 32 bytes each, in ascending order.
  const values = readPart(dir, 'pcrs.values');
  const digest = createHash('sha256').update(values).digest();
  if (values.length !== 32 * pcrs.length || Buffer.compare(digest, quote.pcrDigest) !== 0) {
    throw new ElastosError('E_ATTEST_INVALID', 'pcrs.values is not what the quote signed');
  }
  const log = parseEventLog(readPart(dir, 'eventlog.json'));
  const pcrValue = hex(values.subarray(values.length - 32));
  if (log.pcr !== pcr || replay(log.events, pcr) !== pcrValue) {
    throw new ElastosError('E_EVENTLOG_MISMATCH', `the event log does not replay to the quoted PCR ${pcr}`);
  }
  return {
    pcr,
    pcrs,
    pcrValue,
    ...(pcrs.length === 2 ? { pcr11: hex(values.subarray(0, 32)) } : {}),
    nonce: Buffer.from(quote.nonce).toString('hex'),
    akName: Buffer.from(ak.name).toString('hex'),
    resetCount: quote.resetCount,
    events: log.events,
  };
}
