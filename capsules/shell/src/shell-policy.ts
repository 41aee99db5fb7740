/**
 * The shell's policy core, a plain module a capsule entry wraps: rules first (the admin's
 * explicit word), then the pluggable deciders, then the default. The default is what PC2 does
 * today: auto-approve.
 */
import { AskQueue, type PendingAsk } from './ask-queue.js';
import type { Decider, Decision, DecisionRequest, Opinion } from './policy.js';
import { type Rules, stricter } from './rules.js';

export interface ShellOptions {
  rules?: Rules;
  deciders?: Decider[];
  /** Lifetime when neither the request nor a rule says (default 1 h). */
  defaultTtlMs?: number;
  /** Uses when neither the request nor a rule says (default 0: unlimited). */
  defaultMaxUses?: number;
  /** What happens when nothing matches (default `allow`: auto-approve). */
  defaultVerdict?: Opinion['verdict'];
  /** Where pending asks persist across a restart of the shell (its data dir's `asks.json`). */
  asksFile?: string;
}

const HOUR = 3600_000;

/** The smaller of two use limits, where 0 means unlimited. */
function fewerUses(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || a === 0) return b ?? a;
  if (b === undefined || b === 0) return a;
  return Math.min(a, b);
}

export class ShellPolicy {
  readonly asks: AskQueue;
  private readonly deciders: Decider[];

  constructor(
    private readonly options: ShellOptions,
    onResolved: (ticket: string, decision: Decision) => void,
  ) {
    this.deciders = options.deciders ?? [];
    const learn = (ticket: string, decision: Decision, request: DecisionRequest, by: string) => {
      const verdict = decision.decision === 'deny' ? 'deny' : 'allow';
      for (const d of this.deciders) d.learn?.(request, verdict, by);
      onResolved(ticket, decision);
    };
    this.asks = new AskQueue(learn, options.asksFile);
  }

  async decide(request: DecisionRequest): Promise<Decision> {
    const opinion = await this.opinion(request);
    if (opinion.verdict === 'deny') return { decision: 'deny', reason: opinion.reason ?? 'denied by policy' };
    const ttlMs = Math.min(
      request.ttlMs ?? this.options.defaultTtlMs ?? HOUR,
      opinion.maxTtlMs ?? Number.MAX_SAFE_INTEGER,
    );
    const maxUses = fewerUses(request.maxUses, opinion.maxUses) ?? this.options.defaultMaxUses ?? 0;
    const grant: Decision = { decision: opinion.verdict === 'allow-log' ? 'allow-log' : 'allow', ttlMs, maxUses };
    if (opinion.reason) grant.reason = opinion.reason;
    if (opinion.verdict !== 'ask') return grant;
    const why = opinion.reason ?? 'asks the admin';
    return { decision: 'ask', ticket: this.asks.add(request, grant, why), reason: why };
  }

  requests(): PendingAsk[] {
    return this.asks.list();
  }

  /** Rules first; without a deciding rule, the deciders, then the default; never under the rules' floor. */
  private async opinion(request: DecisionRequest): Promise<Opinion> {
    const { decided, floor } = this.options.rules?.evaluate(request) ?? {};
    if (decided) return decided;
    for (const d of this.deciders) {
      const o = await d.decide(request);
      if (o) return stricter({ ...o, reason: o.reason ?? d.name }, floor);
    }
    return stricter({ verdict: this.options.defaultVerdict ?? 'allow', reason: 'default: auto-approve' }, floor);
  }
}
