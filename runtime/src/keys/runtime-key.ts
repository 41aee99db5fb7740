/**
 * The runtime's signing identity. The TPM-sealed key (TPM issue) and the dev key kept in the
 * store both implement this, so tokens, checkpoints and attestations never see the difference.
 */
export interface RuntimeKey {
  /** Short printable id of the public key (hex of the first 8 bytes of SHA-256(publicKey)). */
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature (RFC 8032 §5.1.6) over `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}
