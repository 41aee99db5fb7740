/** The codes this package throws; they are entries of runtime/protocol/src/errors/codes.ts. */
export type TpmErrorCode =
  | 'E_TPM_UNAVAILABLE'
  | 'E_TPM_TCTI'
  | 'E_TPM_COMMAND'
  | 'E_TPM_LOCKOUT'
  | 'E_TPM_PCR_MISMATCH'
  | 'E_SETUP_REQUIRED';

/**
 * A failed TPM call: a stable `code` (an ElastosError code, so `asElastosError` keeps it), the
 * raw TSS2_RC and its Tss2_RC_Decode text. Programming mistakes stay TypeError/RangeError.
 */
export class TpmError extends Error {
  readonly code: TpmErrorCode;
  readonly rc: number;
  readonly decoded: string;
  /** The ESYS call (or step) that failed, e.g. `Esys_Load`, `unmarshal private`. */
  readonly op: string;

  constructor(
    code: TpmErrorCode,
    message: string,
    options: { cause?: unknown; rc?: number; decoded?: string; op?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TpmError';
    this.code = code;
    this.rc = options.rc ?? 0;
    this.decoded = options.decoded ?? '';
    this.op = options.op ?? '';
  }
}

// TSS2_RC layers (tss2_common.h): bits 16-23.
const LAYER_TPM = 0;
const LAYER_ESYS = 7;
const LAYER_TCTI = 10;
const LAYER_FEATURE = 6;
// TSS2_BASE_RC_*: IO_ERROR, NO_CONNECTION, BAD_SEQUENCE (our "context closed").
const BASE_IO = 0x0a;
const BASE_NO_CONNECTION = 0x0f;
const BASE_BAD_SEQUENCE = 0x07;

/** TPM_RC values we act on (TPM 2.0 Part 2 §6.6). */
export const TPM_RC = {
  POLICY_FAIL: 0x09d,
  OBJECT_MEMORY: 0x902,
  TESTING: 0x90a,
  YIELDED: 0x908,
  LOCKOUT: 0x921,
  RETRY: 0x922,
} as const;

/** The TPM-layer response code without its handle/session/parameter number (Part 2 §6.6.3). */
export function rcBase(rc: number): number {
  if ((rc >>> 16) & 0xff) return rc;
  return rc & 0x80 ? rc & 0xbf : rc & 0xfff;
}

function codeFor(rc: number): TpmErrorCode {
  const layer = (rc >>> 16) & 0xff;
  const base = rc & 0xffff;
  if (layer === LAYER_TCTI) return 'E_TPM_UNAVAILABLE';
  if ((layer === LAYER_ESYS || layer === LAYER_FEATURE) && [BASE_IO, BASE_NO_CONNECTION].includes(base)) {
    return 'E_TPM_UNAVAILABLE';
  }
  if (layer === LAYER_FEATURE && base === BASE_BAD_SEQUENCE) return 'E_TPM_UNAVAILABLE';
  if (layer === LAYER_TPM && rcBase(rc) === TPM_RC.LOCKOUT) return 'E_TPM_LOCKOUT';
  return 'E_TPM_COMMAND';
}

/** The addon's rejection (an Error with rc, op, decoded) as a TpmError. */
export function fromNative(err: unknown): TpmError {
  const e = err as { rc?: unknown; op?: unknown; decoded?: unknown; message?: unknown };
  if (typeof e?.rc !== 'number') return new TpmError('E_TPM_COMMAND', String(e?.message ?? err), { cause: err });
  const rc = e.rc;
  const op = typeof e.op === 'string' ? e.op : 'TPM';
  const decoded = typeof e.decoded === 'string' ? e.decoded : '';
  const hex = `0x${rc.toString(16).padStart(3, '0')}`;
  return new TpmError(codeFor(rc), `${op}: ${decoded || 'failed'} (rc ${hex})`, { cause: err, rc, decoded, op });
}
