/**
 * The shell's side of the decision protocol (runtime/spec/ipc.md §6): what it is asked and
 * what it answers. The runtime enforces; this package decides.
 */

/** A capability request as the runtime forwards it (capsule id from the IPC channel). */
export interface DecisionRequest {
  requestId: string;
  capsule: string;
  audience: string;
  /** Canonical resource (runtime/spec/token.md §5). */
  resource: string;
  action: string;
  ttlMs?: number;
  maxUses?: number;
  reason?: string;
}

export type Verdict = 'allow' | 'allow-log' | 'deny' | 'ask';

/** The answer to the runtime. An allow carries the lifetime and uses the token gets. */
export interface Decision {
  decision: Verdict;
  ttlMs?: number;
  maxUses?: number;
  reason?: string;
  ticket?: string;
}

/** A verdict with optional limits: what rules and deciders say before the shell fills in defaults. */
export interface Opinion {
  verdict: Verdict;
  /** Longest lifetime this opinion grants. */
  maxTtlMs?: number;
  maxUses?: number;
  reason?: string;
}

/**
 * A pluggable decider (an AI agent, a risk model): it may give an opinion or abstain
 * (undefined). It also hears the admin's final answers, so it can learn from them.
 */
export interface Decider {
  readonly name: string;
  decide(request: DecisionRequest): Promise<Opinion | undefined> | Opinion | undefined;
  learn?(request: DecisionRequest, verdict: 'allow' | 'deny', by: string): void;
}
