import { createHash } from 'node:crypto';
import { ElastosError } from '@elastos/protocol/errors';

/**
 * Parsers of the TPM structures an attestation carries (TPM 2.0 Part 2). Their bytes come from
 * whoever hands us the attestation, so every read is bounds-checked and every failure is
 * E_ATTEST_INVALID, never a crash.
 */
class Reader {
  private off = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
  ) {}
  private need(n: number): void {
    if (this.off + n > this.b.length) throw new ElastosError('E_ATTEST_INVALID', `${this.what} is truncated`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.off++] as number;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  u32(): number {
    return ((this.u16() << 16) >>> 0) + this.u16();
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.b.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  tpm2b(): Uint8Array {
    return this.bytes(this.u16());
  }
  end(): void {
    if (this.off !== this.b.length) throw new ElastosError('E_ATTEST_INVALID', `${this.what} has trailing bytes`);
  }
  fail(why: string): never {
    throw new ElastosError('E_ATTEST_INVALID', `${this.what}: ${why}`);
  }
}

const TPM_GENERATED_VALUE = 0xff544347;
const TPM_ST_ATTEST_QUOTE = 0x8018;
const ALG = { SHA256: 0x000b, ECC: 0x0023, ECDSA: 0x0018, NULL: 0x0010, P256: 0x0003 } as const;

export interface PcrSelection {
  hash: number;
  pcrs: number[];
}

/** TPMS_ATTEST of a quote (Part 2 §10.12.12, §10.12.1). */
export interface QuoteInfo {
  signerName: Uint8Array;
  nonce: Uint8Array;
  resetCount: number;
  restartCount: number;
  selections: PcrSelection[];
  pcrDigest: Uint8Array;
}

function readSelections(r: Reader): PcrSelection[] {
  const count = r.u32();
  if (count > 16) r.fail('too many PCR selections');
  const out: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hash = r.u16();
    const bits = r.bytes(r.u8());
    const pcrs: number[] = [];
    bits.forEach((byte, j) => {
      for (let k = 0; k < 8; k++) if (byte & (1 << k)) pcrs.push(j * 8 + k);
    });
    out.push({ hash, pcrs });
  }
  return out;
}

export function parseQuote(b: Uint8Array): QuoteInfo {
  const r = new Reader(b, 'quote.msg');
  if (r.u32() !== TPM_GENERATED_VALUE) r.fail('not TPM-generated (magic)');
  if (r.u16() !== TPM_ST_ATTEST_QUOTE) r.fail('not a quote');
  const signerName = r.tpm2b();
  const nonce = r.tpm2b();
  r.u64(); // clock
  const resetCount = r.u32();
  const restartCount = r.u32();
  r.u8(); // safe
  r.u64(); // firmwareVersion
  const selections = readSelections(r);
  const pcrDigest = r.tpm2b();
  r.end();
  return { signerName, nonce, resetCount, restartCount, selections, pcrDigest };
}

/** TPMT_SIGNATURE with ECDSA (Part 2 §11.3.4): r || s, each left-padded to 32 bytes. */
export function parseEcdsaSignature(b: Uint8Array): Uint8Array {
  const r = new Reader(b, 'quote.sig');
  if (r.u16() !== ALG.ECDSA) r.fail('not an ECDSA signature');
  if (r.u16() !== ALG.SHA256) r.fail('not SHA-256');
  const sr = r.tpm2b();
  const ss = r.tpm2b();
  r.end();
  if (sr.length > 32 || ss.length > 32) r.fail('bad r or s length');
  const out = new Uint8Array(64);
  out.set(sr, 32 - sr.length);
  out.set(ss, 64 - ss.length);
  return out;
}

/** An ECC P-256 TPM2B_PUBLIC (Part 2 §12.2.5): its point and its TPM name. */
export interface EccPublic {
  x: Uint8Array;
  y: Uint8Array;
  /** nameAlg || SHA-256(TPMT_PUBLIC) (Part 1 §16). */
  name: Uint8Array;
}

export function parseEccPublic(b: Uint8Array): EccPublic {
  const outer = new Reader(b, 'ak.pub');
  const area = outer.tpm2b();
  outer.end();
  const r = new Reader(area, 'ak.pub');
  if (r.u16() !== ALG.ECC) r.fail('not an ECC key');
  if (r.u16() !== ALG.SHA256) r.fail('name algorithm is not SHA-256');
  r.u32(); // objectAttributes
  r.tpm2b(); // authPolicy
  if (r.u16() !== ALG.NULL) r.bytes(4); // symmetric keyBits + mode
  if (r.u16() !== ALG.NULL) r.u16(); // scheme hash
  if (r.u16() !== ALG.P256) r.fail('not P-256');
  if (r.u16() !== ALG.NULL) r.u16(); // kdf hash
  const x = r.tpm2b();
  const y = r.tpm2b();
  r.end();
  if (x.length !== 32 || y.length !== 32) r.fail('bad point size');
  const name = new Uint8Array(34);
  name.set([0x00, 0x0b]);
  name.set(createHash('sha256').update(area).digest(), 2);
  return { x, y, name };
}
