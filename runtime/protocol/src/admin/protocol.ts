/**
 * The admin socket's wire format (runtime/spec/admin.md): one JSON object per line.
 * Request `{id, cmd, args}`; reply `{id, ok: true, result}` or `{id, ok: false, error: {code, message}}`.
 * Long commands may send progress lines `{id, progress: {done, total}}` before their reply;
 * subscriptions send event lines `{id, event}` until the client closes the connection.
 */
import { ElastosError, type ErrorCode } from '../errors/index.js';

export const MAX_ADMIN_LINE = 1 << 20;

export interface AdminRequest {
  id: number;
  cmd: string;
  args: Record<string, unknown>;
}

export type AdminReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: ErrorCode; message: string } };

/** Sent before the reply by long commands (audit verify, capsule install); never ends a call. */
export interface AdminProgress {
  id: number;
  progress: { done: number; total: number };
}

/**
 * Sent by a subscription (`audit.tail` with `follow`) for each item, for as long as the client
 * keeps the connection open; the call has no reply while it follows.
 */
export interface AdminEvent {
  id: number;
  event: unknown;
}

/** Parses one request line from an untrusted peer; never throws anything but E_ADMIN_PROTOCOL. */
export function parseAdminRequest(line: string): AdminRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ElastosError('E_ADMIN_PROTOCOL', 'request is not JSON');
  }
  const v = value as Partial<AdminRequest> | null;
  if (typeof v !== 'object' || v === null || !Number.isSafeInteger(v.id) || typeof v.cmd !== 'string') {
    throw new ElastosError('E_ADMIN_PROTOCOL', 'request needs an integer id and a string cmd');
  }
  const args = v.args ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new ElastosError('E_ADMIN_PROTOCOL', 'args must be an object');
  }
  return { id: v.id as number, cmd: v.cmd, args: args as Record<string, unknown> };
}
