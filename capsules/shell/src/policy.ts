/**
 * The shell's side of the decision protocol (runtime/spec/ipc.md §6): what it is asked and
 * what it answers. The runtime enforces; this package decides.
 */

import type { DecisionRequest } from '@elastos/protocol/ipc/decision';
import type { Decision } from '@elastos/protocol/ipc/messages';

/**
 * The request (capsule id from the IPC channel, resource canonical) and the answer to the
 * runtime: the runtime's own types, so both ends of the protocol read one definition. An allow
 * carries the lifetime and uses the token gets.
 */
export type { Decision, DecisionRequest };

export type Verdict = Decision['decision'];

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
