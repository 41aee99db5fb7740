/**
 * An example decider for an AI-agent shell: it watches the admin's answers and learns. A
 * request the admin answered before (same capsule, provider, action and exact resource: one
 * approval of one file never stretches to its folder or to a prefix) gets the same answer. Unseen risky actions (delete, net, write) go to
 * the admin; unseen reads abstain (the next rule, usually the default, decides). A model-backed
 * agent plugs in behind the same Decider interface.
 */
import type { Decider, DecisionRequest, Opinion } from './policy.js';

const RISKY = new Set(['delete', 'net', 'write']);

export class LearningAgentDecider implements Decider {
  readonly name = 'learning-agent';
  private readonly memory = new Map<string, 'allow' | 'deny'>();

  private key(r: DecisionRequest): string {
    return JSON.stringify([r.capsule, r.audience, r.action, r.resource]);
  }

  decide(request: DecisionRequest): Opinion | undefined {
    const seen = this.memory.get(this.key(request));
    if (seen) return { verdict: seen, reason: `learning-agent: the admin said ${seen} to this request before` };
    if (RISKY.has(request.action)) return { verdict: 'ask', reason: `learning-agent: ${request.action} is risky` };
    return undefined;
  }

  learn(request: DecisionRequest, verdict: 'allow' | 'deny', by: string): void {
    if (by !== 'runtime') this.memory.set(this.key(request), verdict);
  }
}
