/** The contract's whole surface; guests import the subpath they need (`@elastos/protocol/ipc/frame`). */
export * from './admin/protocol.js';
export * from './admin/replies.js';
export * from './audit/event.js';
export * from './audit/merkle.js';
export * from './audit/record.js';
export * from './capsules/manifest.js';
export {
  base32,
  CAPSULE_ID_PATTERN,
  type CapsulePackage,
  capsuleId,
  checkPaths,
  contentDigest,
  decodePackage,
  encodePackage,
  MAX_FILES,
  MAX_PACKAGE_BYTES,
  MAX_PATH_BYTES,
  PACKAGE_FORMAT,
  type PackageContent,
  SIGNATURE_BYTES,
  SIGNING_PREFIX,
  signingMessage as packageSigningMessage,
} from './capsules/package-codec.js';
export * from './cbor/strict-decode.js';
export * from './errors/index.js';
export * from './ipc/decision.js';
export * from './ipc/frame.js';
export * from './ipc/messages.js';
export * from './keys/key-id.js';
export * from './tokens/resource.js';
export * from './tokens/token.js';
export * from './tokens/token-claims.js';
export {
  decodeToken,
  encodeCbor,
  encodeEnvelope,
  encodePayload,
  signingMessage as tokenSigningMessage,
} from './tokens/token-codec.js';
