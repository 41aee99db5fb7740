export * from './capsule.js';
export { asCapsuleError, CapsuleError, type ErrorCode } from './errors.js';
export { encodeFrames, FrameReader } from './frame.js';
export { Link, type LinkOptions, type RuntimeCall } from './link.js';
export * from './storage-client.js';
export { attempt, idle, say } from './story.js';
export { decodeToken, inScope, keyIdOf, type TokenClaims, verifyToken } from './token.js';
