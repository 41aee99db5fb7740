import { ElastosError, type ErrorCode } from '@elastos/protocol/errors';

/** A verification failure that points at the first bad sequence number (runtime/spec/audit.md §9). */
export class AuditFault extends ElastosError {
  constructor(
    code: ErrorCode,
    readonly seq: number,
    message: string,
  ) {
    super(code, `seq ${seq}: ${message}`);
    this.name = 'AuditFault';
  }

  override toJSON(): { code: ErrorCode; message: string; seq: number } {
    return { ...super.toJSON(), seq: this.seq };
  }
}
