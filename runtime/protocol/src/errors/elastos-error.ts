import { ERROR_CODES, type ErrorCode, isErrorCode } from './codes.js';

/** The one error family of the project: a stable code, a one-line message, an optional cause. */
export class ElastosError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code].summary, options);
    this.name = 'ElastosError';
    this.code = code;
  }

  /** The CLI's exit status for this error. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** One line, as the CLI and the logs print it. */
  toLine(): string {
    return `error ${this.code}: ${this.message}`;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Any thrown value as an ElastosError; unknown errors become E_INTERNAL with the original as cause. */
export function asElastosError(err: unknown): ElastosError {
  if (err instanceof ElastosError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (isErrorCode(code)) {
    return new ElastosError(code, (err as Error).message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ElastosError('E_INTERNAL', message, { cause: err });
}

/** True when `err` is an ElastosError (or carries an ElastosError-shaped code) with this code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return (err as { code?: unknown } | null)?.code === code;
}
