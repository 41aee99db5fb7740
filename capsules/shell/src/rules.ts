/**
 * The rules file (capsules/shell/README.md): an ordered list of patterns with verdicts, matched
 * against the request's scope as a set (scope.ts): `*` is one or more characters of a segment,
 * `**` any run at all (so `storage://photos/**` covers everything under photos/).
 */
import { readFileSync } from 'node:fs';
import { ElastosError } from '@elastos/protocol/errors';
import { Ajv } from 'ajv';
import type { DecisionRequest, Opinion, Verdict } from './policy.js';
import { compilePattern, contains, matches, overlaps, type Pattern, scopeOf } from './scope.js';

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

/** How strict a verdict is: a floor from an overlapping rule can only raise it. */
const SEVERITY: Record<Verdict, number> = { allow: 0, 'allow-log': 1, ask: 2, deny: 3 };

/** The stricter of two opinions; limits are the smaller of both. */
export function stricter(a: Opinion, b: Opinion | undefined): Opinion {
  if (!b) return a;
  const [hi, lo] = SEVERITY[b.verdict] > SEVERITY[a.verdict] ? [b, a] : [a, b];
  const ttl = [a.maxTtlMs, b.maxTtlMs].filter((t): t is number => t !== undefined);
  const uses = [a.maxUses, b.maxUses].filter((u): u is number => u !== undefined && u > 0);
  const out: Opinion = { ...lo, ...hi };
  if (ttl.length) out.maxTtlMs = Math.min(...ttl);
  if (uses.length) out.maxUses = Math.min(...uses);
  return out;
}

/** What the rules say about a request: the deciding rule (if any) and a floor no answer may go under. */
export interface RuleVerdict {
  decided?: Opinion;
  floor?: Opinion;
}

interface Compiled {
  rule: Rule;
  reason: string;
  names: (r: DecisionRequest) => boolean;
  resource: Pattern;
}

export class Rules {
  private readonly compiled: Compiled[];

  constructor(readonly rules: Rule[]) {
    this.compiled = rules.map((rule, i) => {
      const [c, a, act] = [rule.capsule, rule.audience ?? '*', rule.action].map(compilePattern) as Pattern[];
      return {
        rule,
        reason: rule.note ?? `rule ${i + 1}`,
        names: (r: DecisionRequest) =>
          matches(c as Pattern, r.capsule) && matches(a as Pattern, r.audience) && matches(act as Pattern, r.action),
        resource: compilePattern(rule.resource),
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

  /**
   * Set semantics (README "Matching"), in rule order as for one resource: a deny whose pattern
   * overlaps the scope denies (some resource of the scope would reach it); the first other rule
   * whose pattern contains the whole scope decides; an `ask` or `allow-log` rule before it that
   * only overlaps the scope sets a floor the final answer cannot go under.
   */
  evaluate(request: DecisionRequest): RuleVerdict {
    const scope = scopeOf(request.resource, request.action);
    let floor: Opinion | undefined;
    for (const c of this.compiled) {
      if (!c.names(request) || !overlaps(c.resource, scope)) continue;
      if (c.rule.decision === 'deny') return { decided: { verdict: 'deny', reason: c.reason } };
      const opinion = {
        verdict: c.rule.decision,
        maxTtlMs: c.rule.maxTtlMs,
        maxUses: c.rule.maxUses,
        reason: c.reason,
      };
      if (contains(c.resource, scope)) return { decided: stricter(opinion, floor) };
      if (c.rule.decision !== 'allow')
        floor = stricter({ ...opinion, reason: `${c.reason} (part of the scope)` }, floor);
    }
    return floor ? { floor } : {};
  }
}
