import type { DecodeOptions } from 'cborg';

/**
 * cborg's options for decoding untrusted deterministic CBOR (RFC 8949 §4.2.1; the token and
 * capsule package specs): definite lengths, no duplicate map keys, no undefined, NaN, Infinity
 * or bignums. cborg cannot check map order or float forms on decode: callers re-encode and compare.
 * Each caller adds its own `useMaps`.
 */
export const STRICT_DECODE = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
} as const satisfies DecodeOptions;
