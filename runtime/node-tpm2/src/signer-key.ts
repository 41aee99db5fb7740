import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The vendor's PCR-signing key as the TPM sees it (runtime/spec/boot.md §4.1): an RSA-2048 public
 * key with exponent 65537, in the template systemd uses for its PCR-signing keys (so the key has
 * the same TPM name in both): type RSA, nameAlg SHA-256, attributes decrypt|sign|userWithAuth,
 * no symmetric algorithm, no scheme, exponent 0 (= 65537), unique = the modulus.
 */
const TPM_ALG_RSA = 0x0001;
const TPM_ALG_SHA256 = 0x000b;
const TPM_ALG_NULL = 0x0010;
const TPM_ALG_RSASSA = 0x0014;
const ATTRIBUTES = 0x00020000 | 0x00040000 | 0x00000040; // decrypt | sign_encrypt | userWithAuth

export interface SignerPublic {
  /** Marshalled TPM2B_PUBLIC, what TPM2_LoadExternal takes. */
  public: Uint8Array;
  /** The TPM name: nameAlg (SHA-256) || SHA-256(TPMT_PUBLIC) (Part 1 §16). */
  name: Uint8Array;
  /** SHA-256 of the key's SubjectPublicKeyInfo DER: how files and logs name the key. */
  fingerprint: string;
}

/** The TPM form of an RSA-2048 public key (PEM, DER SPKI or a KeyObject); RangeError for any other key. */
export function signerPublic(key: string | Uint8Array | KeyObject): SignerPublic {
  const k =
    typeof key === 'string' || key instanceof Uint8Array
      ? createPublicKey(typeof key === 'string' ? key : { key: Buffer.from(key), format: 'der', type: 'spki' })
      : key;
  const details = k.asymmetricKeyDetails;
  if (k.asymmetricKeyType !== 'rsa' || details?.modulusLength !== 2048 || details.publicExponent !== 65537n) {
    throw new RangeError('the PCR-signing key must be RSA-2048 with exponent 65537');
  }
  const jwk = k.export({ format: 'jwk' });
  const modulus = Buffer.from(String(jwk.n), 'base64url');
  if (modulus.length !== 256) throw new RangeError('RSA-2048 modulus is not 256 bytes');
  const head = Buffer.alloc(22);
  let o = 0;
  o = head.writeUInt16BE(TPM_ALG_RSA, o);
  o = head.writeUInt16BE(TPM_ALG_SHA256, o);
  o = head.writeUInt32BE(ATTRIBUTES, o);
  o = head.writeUInt16BE(0, o); // authPolicy: empty
  o = head.writeUInt16BE(TPM_ALG_NULL, o); // symmetric
  o = head.writeUInt16BE(TPM_ALG_NULL, o); // scheme
  o = head.writeUInt16BE(2048, o); // keyBits
  o = head.writeUInt32BE(0, o); // exponent: default
  head.writeUInt16BE(modulus.length, o);
  const area = Buffer.concat([head, modulus]);
  const size = Buffer.alloc(2);
  size.writeUInt16BE(area.length, 0);
  const alg = Buffer.from([0x00, 0x0b]);
  const spki = k.export({ format: 'der', type: 'spki' });
  return {
    public: new Uint8Array(Buffer.concat([size, area])),
    name: new Uint8Array(Buffer.concat([alg, createHash('sha256').update(area).digest()])),
    fingerprint: createHash('sha256').update(spki).digest('hex'),
  };
}

/** Marshalled TPMT_SIGNATURE of an RSASSA-PKCS1-v1_5 SHA-256 signature (Part 2 §11.3.4). */
export function rsassaSignature(sig: Uint8Array): Uint8Array {
  if (sig.length < 1 || sig.length > 512) throw new RangeError('RSA signature: 1..512 bytes');
  const head = Buffer.alloc(6);
  head.writeUInt16BE(TPM_ALG_RSASSA, 0);
  head.writeUInt16BE(TPM_ALG_SHA256, 2);
  head.writeUInt16BE(sig.length, 4);
  return new Uint8Array(Buffer.concat([head, sig]));
}
