export { LearningAgentDecider } from './agent-decider.js';
export { AskQueue, type PendingAsk } from './ask-queue.js';
export type { Decider, Decision, DecisionRequest, Opinion, Verdict } from './policy.js';
export { type Rule, Rules } from './rules.js';
export { type ShellOptions, ShellPolicy } from './shell-policy.js';
