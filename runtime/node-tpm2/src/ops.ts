import { fromNative, rcBase, TPM_RC, TpmError } from './errors.js';
import type { NativeContext, NativeResult } from './native.js';
import { authorizeHash, pcrMask } from './policy.js';

export type PrimaryKind = 'storage' | 'ak';
export type NvKind = 'counter' | 'extend';

/** A loaded primary key: its transient handle and marshalled TPM2B_PUBLIC. */
export interface PrimaryKey {
  handle: number;
  public: Uint8Array;
}

/** A sealed data object as the TPM returned it: marshalled TPM2B_PRIVATE and TPM2B_PUBLIC. */
export interface SealedBlob {
  private: Uint8Array;
  public: Uint8Array;
}

/** A vendor-signed PCR policy, as TPM2_PolicyAuthorize takes it (runtime/spec/boot.md §4.1). */
export interface SignedPcrPolicy {
  /** The SHA-256 PCRs of the approved TPM2_PolicyPCR. */
  pcrs: readonly number[];
  /** The approved policy digest (the PolicyPCR digest of the expected values), 32 bytes. */
  approved: Uint8Array;
  /** 0..32 bytes, signed together with the policy. */
  policyRef: Uint8Array;
  /** Marshalled TPM2B_PUBLIC of the signing key (`signerPublic`). */
  signerPublic: Uint8Array;
  /** Marshalled TPMT_SIGNATURE over H(approved || policyRef) (`rsassaSignature`). */
  signature: Uint8Array;
}

export interface Quote {
  /** TPMS_ATTEST bytes (what was signed; `tpm2_checkquote -m`). */
  attest: Uint8Array;
  /** Marshalled TPMT_SIGNATURE (`tpm2_checkquote -s`). */
  signature: Uint8Array;
  /** Marshalled TPM2B_PUBLIC of the attestation key (`tpm2_checkquote -u`). */
  akPublic: Uint8Array;
}

export interface TpmProperties {
  /** Four ASCII letters, e.g. `IBM`. */
  manufacturer: string;
  inLockout: boolean;
  lockoutCounter: number;
  maxAuthFail: number;
  lockoutInterval: number;
}

const RETRYABLE: readonly number[] = [TPM_RC.RETRY, TPM_RC.YIELDED, TPM_RC.TESTING];

function pcrIndex(pcr: number): number {
  if (!Number.isInteger(pcr) || pcr < 0 || pcr > 23) throw new RangeError(`PCR must be 0..23, got ${pcr}`);
  return pcr;
}
function sized(name: string, b: Uint8Array, min: number, max: number): Buffer {
  if (!(b instanceof Uint8Array) || b.length < min || b.length > max) {
    throw new RangeError(`${name} must be ${min}..${max} bytes`);
  }
  return Buffer.from(b);
}
function nvIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0x01000000 || index > 0x01ffffff) throw new RangeError('bad NV index');
  return index;
}
function buf(r: NativeResult, key: string): Uint8Array {
  const v = r[key];
  if (!Buffer.isBuffer(v)) throw new TypeError(`the binding returned no ${key}`);
  return new Uint8Array(v);
}
function num(r: NativeResult, key: string): number {
  const v = r[key];
  return typeof v === 'number' ? v : 0;
}

/**
 * The TPM operations, each one native call (or a short sequence that flushes what it loads).
 * Not serialised: `Tpm` runs these one at a time from its queue.
 */
export class TpmOps {
  /** Set once the transport failed: ESYS is then out of sequence, so every later call fails the same way. */
  private lost: TpmError | undefined;

  constructor(private readonly ctx: NativeContext) {}

  /** One native call; retryable TPM warnings (RETRY, YIELDED, TESTING) are retried a few times. */
  async call(op: string, ...args: Array<number | string | boolean | Buffer>): Promise<NativeResult> {
    if (this.lost) throw new TpmError('E_TPM_UNAVAILABLE', `the TPM connection was lost: ${this.lost.message}`);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.ctx.call(op, ...args);
      } catch (err) {
        const rc = (err as { rc?: unknown }).rc;
        if (attempt < 3 && typeof rc === 'number' && RETRYABLE.includes(rcBase(rc))) continue;
        const e = fromNative(err);
        if (e.code === 'E_TPM_UNAVAILABLE') this.lost = e;
        throw e;
      }
    }
  }

  async getRandom(n: number): Promise<Uint8Array> {
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new RangeError('getRandom: 1..1024 bytes');
    return buf(await this.call('getRandom', n), 'bytes');
  }

  async pcrRead(pcr: number): Promise<Uint8Array> {
    return buf(await this.call('pcrRead', pcrIndex(pcr)), 'digest');
  }

  async pcrExtend(pcr: number, digest: Uint8Array): Promise<void> {
    await this.call('pcrExtend', pcrIndex(pcr), sized('digest', digest, 32, 32));
  }

  async pcrReset(pcr: number): Promise<void> {
    await this.call('pcrReset', pcrIndex(pcr));
  }

  async createPrimary(kind: PrimaryKind): Promise<PrimaryKey> {
    const r = await this.call('createPrimary', kind);
    return { handle: num(r, 'handle'), public: buf(r, 'public') };
  }

  async flush(handle: number): Promise<void> {
    await this.call('flush', handle);
  }

  /** Creates a primary, runs `fn` with it, flushes it whatever happens. */
  async withPrimary<T>(kind: PrimaryKind, fn: (key: PrimaryKey) => Promise<T>): Promise<T> {
    const key = await this.createPrimary(kind);
    try {
      return await fn(key);
    } finally {
      await this.flush(key.handle);
    }
  }

  /** Seals `data` (≤128 bytes) under the storage key, usable only through `policy` (TPM2 policy digest). */
  async seal(data: Uint8Array, policy: Uint8Array): Promise<SealedBlob> {
    const d = sized('sealed data', data, 1, 128);
    const p = sized('policy', policy, 32, 32);
    try {
      return await this.withPrimary('storage', async (srk) => {
        const r = await this.call('createSealed', srk.handle, d, p);
        return { private: buf(r, 'private'), public: buf(r, 'public') };
      });
    } finally {
      d.fill(0);
    }
  }

  /** Loads a sealed blob and unseals it through a salted policy session on one SHA-256 PCR. */
  async unseal(blob: SealedBlob, pcr: number): Promise<Uint8Array> {
    const priv = sized('private blob', blob.private, 2, 4096);
    const pub = sized('public blob', blob.public, 2, 4096);
    return this.withPrimary('storage', async (srk) => {
      const loaded = num(await this.call('load', srk.handle, priv, pub), 'handle');
      try {
        const r = await this.call('unseal', srk.handle, loaded, pcrIndex(pcr));
        const data = buf(r, 'data');
        (r.data as Buffer).fill(0);
        return data;
      } finally {
        await this.flush(loaded);
      }
    });
  }

  /**
   * Loads a sealed blob and unseals it through a vendor-signed PCR policy: TPM2_VerifySignature
   * of the signed policy with the signer loaded as an external key, then PolicyPCR and
   * PolicyAuthorize in a salted policy session (response encrypted).
   */
  async unsealAuthorized(blob: SealedBlob, policy: SignedPcrPolicy): Promise<Uint8Array> {
    const priv = sized('private blob', blob.private, 2, 4096);
    const pub = sized('public blob', blob.public, 2, 4096);
    const approved = sized('approved policy', policy.approved, 32, 32);
    const ref = sized('policyRef', policy.policyRef, 0, 32);
    const args = [
      pcrMask(policy.pcrs),
      approved,
      ref,
      Buffer.from(authorizeHash(approved, ref)),
      sized('signer public', policy.signerPublic, 2, 1024),
      sized('signature', policy.signature, 2, 1024),
    ];
    if (args[0] === 0) throw new RangeError('a signed PCR policy names at least one PCR');
    return this.withPrimary('storage', async (srk) => {
      const loaded = num(await this.call('load', srk.handle, priv, pub), 'handle');
      try {
        const r = await this.call('unsealAuthorized', srk.handle, loaded, ...args);
        const data = buf(r, 'data');
        (r.data as Buffer).fill(0);
        return data;
      } finally {
        await this.flush(loaded);
      }
    });
  }

  /** The TPM's name of an external public key (TPM2_LoadExternal, then flushed). */
  async externalName(signerPublic: Uint8Array): Promise<Uint8Array> {
    return buf(await this.call('loadExternal', sized('signer public', signerPublic, 2, 1024)), 'name');
  }

  /**
   * Quotes SHA-256 PCRs (one, or several in one TPM2_Quote: the digest covers their values in
   * ascending order) with the attestation key (re-created from its fixed template).
   */
  async quote(pcrs: number | readonly number[], nonce: Uint8Array): Promise<Quote> {
    const n = sized('nonce', nonce, 1, 64);
    const mask = pcrMask(typeof pcrs === 'number' ? [pcrs] : pcrs);
    if (mask === 0) throw new RangeError('a quote names at least one PCR');
    return this.withPrimary('ak', async (ak) => {
      const r = await this.call('quote', ak.handle, mask, n);
      return { attest: buf(r, 'attest'), signature: buf(r, 'signature'), akPublic: ak.public };
    });
  }

  async properties(): Promise<TpmProperties> {
    const r = await this.call('properties');
    const m = num(r, 'manufacturer');
    const letters = [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).filter((c) => c > 0x20 && c < 0x7f);
    return {
      manufacturer: String.fromCharCode(...letters),
      inLockout: num(r, 'inLockout') === 1,
      lockoutCounter: num(r, 'lockoutCounter'),
      maxAuthFail: num(r, 'maxAuthFail'),
      lockoutInterval: num(r, 'lockoutInterval'),
    };
  }

  /** Defines an owner NV index: a monotonic counter (8 bytes) or an extend index (SHA-256). NODA by default. */
  async nvDefine(index: number, kind: NvKind, options: { noDA?: boolean } = {}): Promise<void> {
    await this.call('nvDefine', nvIndex(index), kind, options.noDA !== false);
  }

  async nvUndefine(index: number): Promise<void> {
    await this.call('nvUndefine', nvIndex(index));
  }

  async nvIncrement(index: number): Promise<void> {
    await this.call('nvIncrement', nvIndex(index));
  }

  async nvExtend(index: number, data: Uint8Array): Promise<void> {
    await this.call('nvExtend', nvIndex(index), sized('NV extend data', data, 1, 1024));
  }

  /** The whole index: 8 bytes big-endian for a counter, the 32-byte digest for an extend index. */
  async nvRead(index: number): Promise<Uint8Array> {
    return buf(await this.call('nvRead', nvIndex(index)), 'data');
  }

  /** A counter index as a bigint. */
  async nvReadCounter(index: number): Promise<bigint> {
    const b = await this.nvRead(index);
    return Buffer.from(b).readBigUInt64BE(0);
  }
}
