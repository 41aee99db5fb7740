/**
 * Typed errors of the capsule SDK. Codes are the contract's (`@elastos/protocol`, runtime/protocol/src/errors/codes.ts); a
 * capsule tests `err.code`, never the message. A provider throws a CapsuleError to answer a
 * call with that code.
 */
import type { ErrorCode } from '@elastos/protocol/errors';

export type { ErrorCode };

export class CapsuleError extends Error {
  override readonly name = 'CapsuleError';

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

const CODE_RE = /^E_[A-Z0-9_]{1,60}$/;

/** An error from the wire (or any thrown value) as a CapsuleError; unknown shapes become E_INTERNAL. */
export function asCapsuleError(err: unknown): CapsuleError {
  if (err instanceof CapsuleError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' && CODE_RE.test(e.code) ? (e.code as ErrorCode) : 'E_INTERNAL';
  const message = typeof e?.message === 'string' ? e.message.slice(0, 1024) : String(err).slice(0, 1024);
  return new CapsuleError(code, message);
}
