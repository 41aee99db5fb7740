/**
 * The rules file (capsules/shell/README.md): an ordered list; the first rule that matches a
 * request decides it. Patterns: `*` matches any run of characters within a segment, `**` any
 * run at all (so `storage://photos/**` covers everything under photos/).
 */
import { readFileSync } from 'node:fs';
import { ElastosError } from '@elastos/protocol/errors';
import { Ajv } from 'ajv';
import type { DecisionRequest, Opinion, Verdict } from './policy.js';

export interface Rule {
  /** Capsule id pattern. */
  capsule: string;
  /** Audience (provider) pattern; default `*`. */
  audience?: string;
  /** Resource pattern. */
  resource: string;
  /** Action pattern (e.g. `read`, `invoke:*`). */
  action: string;
  decision: Verdict;
  /** Longest lifetime granted, e.g. 3600000 (1 h). */
  maxTtlMs?: number;
  maxUses?: number;
  note?: string;
}

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['capsule', 'resource', 'action', 'decision'],
        properties: {
          capsule: { type: 'string', minLength: 1 },
          audience: { type: 'string', minLength: 1 },
          resource: { type: 'string', minLength: 1 },
          action: { type: 'string', minLength: 1 },
          decision: { enum: ['allow', 'allow-log', 'deny', 'ask'] },
          maxTtlMs: { type: 'integer', minimum: 1 },
          maxUses: { type: 'integer', minimum: 0 },
          note: { type: 'string' },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false }).compile(SCHEMA);

/** Compiles a glob to an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const quote = (part: string) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const body = glob
    .split('**')
    .map((run) => run.split('*').map(quote).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

export class Rules {
  private readonly compiled: Array<{ rule: Rule; test: (r: DecisionRequest) => boolean }>;

  constructor(readonly rules: Rule[]) {
    this.compiled = rules.map((rule) => {
      const [c, a, res, act] = [rule.capsule, rule.audience ?? '*', rule.resource, rule.action].map(globToRegExp);
      return {
        rule,
        test: (r: DecisionRequest) =>
          !!(c?.test(r.capsule) && a?.test(r.audience) && res?.test(r.resource) && act?.test(r.action)),
      };
    });
  }

  /** Parses and checks a rules file's JSON; E_CONFIG_INVALID names the problem. */
  static parse(json: string, source = 'rules'): Rules {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      throw new ElastosError('E_CONFIG_PARSE', `${source} is not JSON`);
    }
    if (!validate(value)) {
      const e = validate.errors?.[0];
      throw new ElastosError('E_CONFIG_INVALID', `${source}${e?.instancePath ?? ''}: ${e?.message ?? 'invalid'}`);
    }
    return new Rules((value as { rules: Rule[] }).rules);
  }

  static load(path: string): Rules {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new ElastosError('E_CONFIG_MISSING', `no rules file at ${path}`);
    }
    return Rules.parse(text, path);
  }

  /** The first matching rule's opinion, or undefined. */
  match(request: DecisionRequest): Opinion | undefined {
    const hit = this.compiled.find((c) => c.test(request))?.rule;
    if (!hit) return undefined;
    const reason = hit.note ?? `rule ${this.rules.indexOf(hit) + 1}`;
    return { verdict: hit.decision, maxTtlMs: hit.maxTtlMs, maxUses: hit.maxUses, reason };
  }
}
