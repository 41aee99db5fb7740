/**
 * The shell capsule's entry: the policy core behind its IPC channel. Rules file from
 * `ELASTOS_SHELL_RULES` or the first argument; without one, every request is auto-approved
 * (or decided by the agent decider).
 */
import { join } from 'node:path';
import { Link } from '@elastos/capsule-sdk/link';
import { ElastosError } from '@elastos/protocol/errors';
import { LearningAgentDecider } from './agent-decider.js';
import type { DecisionRequest } from './policy.js';
import { Rules } from './rules.js';
import { ShellPolicy } from './shell-policy.js';

const rulesPath = process.env.ELASTOS_SHELL_RULES ?? process.argv[2];
const rules = rulesPath ? Rules.load(rulesPath) : undefined;
// The runtime's calls arrive on the SDK's link (fd 3); a closed channel means the runtime is gone.
const link = new Link();
link.onClose(() => process.exit(0));
// Pending asks outlive a restart of the shell: they sit in its data dir (or the second argument).
const dataDir = process.env.ELASTOS_DATA_DIR;
const asksFile = dataDir ? join(dataDir, 'asks.json') : process.argv[3];
const policy = new ShellPolicy({ rules, deciders: [new LearningAgentDecider()], asksFile }, (ticket, decision) =>
  link.event('resolved', { ticket, decision }),
);

link.onCall((msg) => {
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
    case 'expire':
      return policy.asks.expire(String(msg.ticket));
    case 'keep':
      return policy.asks.keep(Array.isArray(msg.tickets) ? msg.tickets.map(String) : []);
    case 'presence':
      return policy.asks.presence(String(msg.ticket));
    default:
      throw new ElastosError('E_USAGE', `unknown shell call ${String(msg.op)}`);
  }
});
