/**
 * The runtime's side of the decision protocol (runtime/spec/ipc.md §6): capability requests
 * go to the shell capsule over its IPC channel; its answer (allow, allow-log, deny, ask) is
 * audited, and an allow is signed. "Ask" waits for the shell's `resolved` event. No policy
 * here: without a shell, or with a bad answer, the request is refused (fail closed).
 */
import { randomBytes } from 'node:crypto';
import type { DecisionRequest } from '@elastos/protocol/ipc/decision';
import { type Decision, type ReqMessage, validateDecision } from '@elastos/protocol/ipc/messages';
import { normaliseResource } from '@elastos/protocol/tokens/resource';
import { isAction } from '@elastos/protocol/tokens/token';
import { ElastosError } from '../errors/index.js';
import type { Broker, BrokerOptions } from './broker.js';
import type { Channel } from './channel.js';

interface Ask {
  resolve: (d: Decision) => void;
  reject: (e: ElastosError) => void;
  timer: NodeJS.Timeout;
}

export class ShellLink {
  private readonly asks = new Map<string, Ask>();

  constructor(
    private readonly broker: Broker,
    private readonly options: BrokerOptions,
  ) {}

  async requestCapability(ch: Channel, msg: ReqMessage): Promise<unknown> {
    const m = msg as ReqMessage & { audience: string; resource: string; action: string };
    const request: DecisionRequest = {
      requestId: randomBytes(8).toString('hex'),
      capsule: ch.id,
      audience: m.audience,
      resource: m.resource,
      action: m.action,
    };
    for (const k of ['ttlMs', 'maxUses', 'reason'] as const)
      if (msg[k] !== undefined) Object.assign(request, { [k]: msg[k] });
    const event = {
      type: 'capability.request',
      resource: String(m.resource).slice(0, 1024),
      action: String(m.action).slice(0, 80),
    };
    const { audit, tokens } = this.broker;
    let decision: Decision;
    try {
      request.resource = normaliseResource(m.resource);
      if (!isAction(m.action)) throw new ElastosError('E_IPC_SCHEMA', `unknown action ${m.action.slice(0, 80)}`);
      await audit.append({ actor: ch.actor, ...event, details: { ...request } });
      decision = await this.decide(request);
    } catch (err) {
      return this.broker.deny(ch, { ...event, details: { requestId: request.requestId } }, err);
    }
    const details = {
      requestId: request.requestId,
      holder: ch.id,
      audience: m.audience,
      ...(decision.reason ? { reason: decision.reason } : {}),
    };
    const shell = `capsule:${this.options.shell}`;
    if (decision.decision === 'deny') {
      const why = decision.reason ?? 'the shell denied the request';
      return this.broker.deny(
        ch,
        { ...event, actor: shell, type: 'capability.decision', details },
        new ElastosError('E_BROKER_DENIED', why),
      );
    }
    const token = await tokens.issue(
      {
        holder: ch.id,
        audience: m.audience,
        resource: request.resource,
        action: m.action,
        ttlMs: decision.ttlMs ?? 0,
        maxUses: decision.maxUses ?? 0,
        ...(decision.decision === 'allow-log' ? { caveats: { audit: 'detail' } } : {}),
      },
      { actor: shell, decision: decision.decision, details },
    );
    return { token: token.encoded, id: token.claims.id, expiry: token.claims.expiry, maxUses: token.claims.maxUses };
  }

  /** The shell's `resolved` event for an earlier "ask". */
  resolved(msg: Record<string, unknown>): void {
    const ask = this.asks.get(String(msg.ticket));
    if (!ask) throw new ElastosError('E_REQUEST_NOT_FOUND', `no pending ask ${String(msg.ticket).slice(0, 64)}`);
    this.asks.delete(String(msg.ticket));
    clearTimeout(ask.timer);
    try {
      const d = validateDecision(msg.decision);
      if (d.decision === 'ask') throw new ElastosError('E_IPC_SCHEMA', 'a resolution cannot be another ask');
      ask.resolve(d);
    } catch (err) {
      ask.reject(err as ElastosError);
    }
  }

  /** An admin command the shell answers (`requests`, `approve`, `deny`). */
  async adminCall(op: 'requests' | 'approve' | 'deny' | 'presence', args: Record<string, unknown>): Promise<unknown> {
    const shell = this.broker.channel(this.options.shell);
    if (!shell) throw new ElastosError('E_BROKER_NO_PROVIDER', 'the shell capsule is not running');
    return shell.call({ op, ...args }, this.options.decideTimeoutMs);
  }

  /** A long press of the board's button (physical presence): the shell approves its oldest ask. */
  async presence(): Promise<unknown> {
    if (!this.broker.channel(this.options.shell)) return null;
    await this.broker.audit.append({ actor: 'mcu', type: 'request.presence' });
    return this.adminCall('presence', { by: 'button' });
  }

  close(): void {
    for (const [, ask] of this.asks) {
      clearTimeout(ask.timer);
      ask.reject(new ElastosError('E_BROKER_DENIED', 'runtime stopping'));
    }
    this.asks.clear();
  }

  private async decide(request: DecisionRequest): Promise<Decision> {
    const shell = this.broker.channel(this.options.shell);
    if (!shell) throw new ElastosError('E_BROKER_DENIED', 'no shell capsule is running: refused (fail closed)');
    const d = validateDecision(await shell.call({ op: 'decide', request }, this.options.decideTimeoutMs));
    if (d.decision !== 'ask') return d;
    const ticket = d.ticket;
    if (ticket === undefined) throw new ElastosError('E_IPC_SCHEMA', 'an ask needs a ticket');
    // Registered before the audit write: the shell may resolve the ticket at once.
    const resolution = new Promise<Decision>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.asks.delete(ticket);
        reject(new ElastosError('E_TIMEOUT', 'nobody answered the request in time'));
      }, this.options.askTimeoutMs);
      this.asks.set(ticket, { resolve, reject, timer });
    });
    resolution.catch(() => undefined);
    await this.broker.audit.append({
      actor: `capsule:${this.options.shell}`,
      type: 'capability.decision',
      decision: 'ask',
      details: { requestId: request.requestId, ticket },
    });
    return resolution;
  }
}
