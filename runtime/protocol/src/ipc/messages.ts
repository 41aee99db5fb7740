/**
 * IPC message schemas (runtime/spec/ipc.md §3), compiled once by ajv. A message that does not
 * match is E_IPC_SCHEMA. Field names are short because every invoke carries them.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { ElastosError } from '../errors/index.js';

const id = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const name = { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._:-]{0,127}$' };
const text = (max: number) => ({ type: 'string', maxLength: max });
const uint = { type: 'integer', minimum: 0, maximum: 0xffff_ffff };
const ms = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };

const req = (op: string, props: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required: ['t', 'id', 'op', ...required],
  properties: { t: { const: 'req' }, id, op: { const: op }, ...props },
});

export const SCHEMAS = {
  'request-capability': req(
    'request-capability',
    { audience: name, resource: text(1024), action: text(80), ttlMs: ms, maxUses: uint, reason: text(512) },
    ['audience', 'resource', 'action'],
  ),
  invoke: req('invoke', { provider: name, method: text(64), resource: text(1024), args: {}, token: text(4096) }, [
    'provider',
    'method',
    'resource',
    'token',
  ]),
  delegate: req(
    'delegate',
    { token: text(4096), holder: name, resource: text(1024), action: text(80), ttlMs: ms, maxUses: uint },
    ['token', 'holder'],
  ),
  res: {
    type: 'object',
    additionalProperties: false,
    required: ['t', 'id', 'ok'],
    properties: {
      t: { const: 'res' },
      id,
      ok: { type: 'boolean' },
      result: {},
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: text(64), message: text(1024) },
      },
    },
  },
  evt: {
    type: 'object',
    additionalProperties: false,
    required: ['t', 'op'],
    properties: { t: { const: 'evt' }, op: { const: 'resolved' }, ticket: text(128), decision: { type: 'object' } },
  },
  decision: {
    type: 'object',
    required: ['decision'],
    properties: {
      decision: { enum: ['allow', 'allow-log', 'deny', 'ask'] },
      ttlMs: ms,
      maxUses: uint,
      reason: text(512),
      ticket: text(128),
    },
  },
} as const;

export type RequestOp = 'request-capability' | 'invoke' | 'delegate';
export const REQUEST_OPS: readonly RequestOp[] = ['request-capability', 'invoke', 'delegate'];

export interface ReqMessage {
  t: 'req';
  id: number;
  op: RequestOp;
  [field: string]: unknown;
}
export interface ResMessage {
  t: 'res';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}
export interface Decision {
  decision: 'allow' | 'allow-log' | 'deny' | 'ask';
  ttlMs?: number;
  maxUses?: number;
  reason?: string;
  ticket?: string;
}

/** Compiled on first use, so that importing this module costs nothing to a guest that never validates. */
let validators: Map<string, ValidateFunction> | undefined;

function validatorOf(kind: keyof typeof SCHEMAS): ValidateFunction {
  if (!validators) {
    const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
    validators = new Map(Object.entries(SCHEMAS).map(([k, schema]) => [k, ajv.compile(schema as object)]));
  }
  return validators.get(kind) as ValidateFunction;
}

/** Checks a parsed message against the schema `kind`; E_IPC_SCHEMA names the first problem. */
export function validate<T>(kind: keyof typeof SCHEMAS, value: unknown): T {
  const v = validatorOf(kind);
  if (!v(value)) {
    const e = v.errors?.[0];
    throw new ElastosError('E_IPC_SCHEMA', `${kind}: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`);
  }
  return value as T;
}

/** A shell's decision; an allow must say for how long and how many uses (policy is the shell's). */
export function validateDecision(value: unknown): Decision {
  const d = validate<Decision>('decision', value);
  if ((d.decision === 'allow' || d.decision === 'allow-log') && (d.ttlMs === undefined || d.maxUses === undefined)) {
    throw new ElastosError('E_IPC_SCHEMA', 'decision: an allow needs ttlMs and maxUses');
  }
  return d;
}
