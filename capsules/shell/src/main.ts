/**
 * The shell capsule's entry: the policy core behind its IPC channel. Rules file from
 * `ELASTOS_SHELL_RULES` or the first argument; without one, every request is auto-approved
 * (or decided by the agent decider).
 */
import { ElastosError } from '@elastos/runtime';
import { LearningAgentDecider } from './agent-decider.js';
import { GuestChannel } from './guest-channel.js';
import type { DecisionRequest } from './policy.js';
import { Rules } from './rules.js';
import { ShellPolicy } from './shell-policy.js';

const rulesPath = process.env.ELASTOS_SHELL_RULES ?? process.argv[2];
const rules = rulesPath ? Rules.load(rulesPath) : undefined;
const policy = new ShellPolicy({ rules, deciders: [new LearningAgentDecider()] }, (ticket, decision) =>
  channel.send({ t: 'evt', op: 'resolved', ticket, decision }),
);

const channel = new GuestChannel((msg) => {
  const by = typeof msg.by === 'string' ? msg.by : 'admin';
  switch (msg.op) {
    case 'decide':
      return policy.decide(msg.request as DecisionRequest);
    case 'requests':
      return policy.requests();
    case 'approve':
      return policy.asks.approve(String(msg.ticket), by);
    case 'deny':
      return policy.asks.deny(String(msg.ticket), by);
    case 'presence':
      return policy.asks.presence(String(msg.ticket));
    default:
      throw new ElastosError('E_USAGE', `unknown shell call ${String(msg.op)}`);
  }
});
