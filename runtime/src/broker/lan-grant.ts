/**
 * Policy's word on the LAN ranges a capsule's manifest names (runtime/spec/ipc.md §6.1): at each
 * start, one `decide` call to the shell per range (resource `lan://<CIDR>`, action `net`, audience
 * `runtime`), each answer audited as `network.lan`. Only `allow` / `allow-log` open a range; `deny`,
 * an `ask` (a start does not wait for a person: the ask is withdrawn), no shell, a timeout or a bad
 * answer keep it closed (fail closed). No policy here.
 */
import { randomBytes } from 'node:crypto';
import { lanRangeProblem } from '@elastos/protocol/capsules/lan-range';
import type { DecisionRequest } from '@elastos/protocol/ipc/decision';
import { validateDecision } from '@elastos/protocol/ipc/messages';
import { asElastosError, ElastosError } from '../errors/index.js';
import type { Broker } from './broker.js';

/** The granted subset of `ranges`, in their order. */
export async function grantLanRanges(broker: Broker, capsule: string, ranges: string[]): Promise<string[]> {
  const granted: string[] = [];
  for (const range of ranges) if (await decideOne(broker, capsule, range)) granted.push(range);
  return granted;
}

async function decideOne(broker: Broker, capsule: string, range: string): Promise<boolean> {
  const request: DecisionRequest = {
    requestId: randomBytes(8).toString('hex'),
    capsule,
    audience: 'runtime',
    resource: `lan://${range}`,
    action: 'net',
    reason: 'a LAN range its manifest names (network.lan), opened for this run only',
  };
  const { shell, decideTimeoutMs } = broker.options;
  const event = { type: 'network.lan', resource: request.resource, action: 'net' };
  try {
    const problem = lanRangeProblem(range);
    if (problem) throw new ElastosError('E_CAPSULE_INVALID', `LAN range ${range.slice(0, 40)} ${problem}`);
    const ch = broker.channel(shell);
    if (!ch) throw new ElastosError('E_BROKER_DENIED', 'no shell capsule is running: refused (fail closed)');
    const d = validateDecision(await ch.call({ op: 'decide', request }, decideTimeoutMs));
    const details = { capsule, requestId: request.requestId, ...(d.reason ? { reason: d.reason } : {}) };
    if (d.decision === 'allow' || d.decision === 'allow-log') {
      await broker.audit.append({ actor: `capsule:${shell}`, ...event, decision: 'allow', details });
      return true;
    }
    // A start does not wait for a person; the shell forgets the ask (the admin grants by a rule).
    if (d.decision === 'ask' && d.ticket) await ch.call({ op: 'expire', ticket: d.ticket }, decideTimeoutMs);
    const why = d.decision === 'ask' ? `the shell asked (${d.reason ?? 'no reason'}): not granted at start` : d.reason;
    await broker.audit.append({
      actor: `capsule:${shell}`,
      ...event,
      decision: 'deny',
      code: 'E_BROKER_DENIED',
      details: { ...details, reason: why ?? 'the shell denied it' },
    });
    return false;
  } catch (err) {
    const e = asElastosError(err);
    const details = { capsule, requestId: request.requestId, reason: e.message };
    await broker.audit.append({ actor: 'runtime', ...event, decision: 'deny', code: e.code, details });
    return false;
  }
}
