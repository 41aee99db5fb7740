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
import { PresenceDesk, type Press } from './presence-desk.js';

interface Ask {
  resolve: (d: Decision) => void;
  reject: (e: ElastosError) => void;
  timer: NodeJS.Timeout;
  /** The requester's channel: when it closes, nobody waits for the answer any more. */
  holder: Channel;
  request: DecisionRequest;
}

export class ShellLink {
  private readonly asks = new Map<string, Ask>();
  /** Which pending request the board's button answers (presence-desk.ts). */
  readonly desk: PresenceDesk;

  constructor(
    private readonly broker: Broker,
    private readonly options: BrokerOptions,
  ) {
    this.desk = new PresenceDesk(options.presenceWindowMs);
  }

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
    // The decision is for this capsule as installed now; a remove or reinstall meanwhile voids it.
    const identity = tokens.identityOf(ch.id);
    let decision: Decision;
    try {
      request.resource = normaliseResource(m.resource);
      if (!isAction(m.action)) throw new ElastosError('E_IPC_SCHEMA', `unknown action ${m.action.slice(0, 80)}`);
      await audit.append({ actor: ch.actor, ...event, details: { ...request } });
      decision = await this.decide(request, ch);
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
    if (decision.decision !== 'deny' && tokens.identityOf(ch.id) !== identity)
      decision = { decision: 'deny', reason: 'the capsule was removed or replaced while its request was decided' };
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
    this.desk.remove(String(msg.ticket));
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
    if (op !== 'requests' && typeof args.ticket === 'string') this.desk.remove(args.ticket);
    const shell = this.broker.channel(this.options.shell);
    if (!shell) throw new ElastosError('E_BROKER_NO_PROVIDER', 'the shell capsule is not running');
    return shell.call({ op, ...args }, this.options.decideTimeoutMs);
  }

  /** The shell's pending asks; the one the button answers now carries `button: {until}`. */
  async requests(): Promise<unknown> {
    const rows = await this.adminCall('requests', {});
    const shown = this.desk.target();
    if (!Array.isArray(rows) || !shown) return rows;
    const button = { until: new Date(shown.closesAt).toISOString(), code: shown.code };
    return rows.map((r: { ticket?: unknown }) => (r?.ticket === shown.ticket ? { ...r, button } : r));
  }

  /**
   * A long press of the board's button (physical presence): it answers the one request the box
   * shows, if the press fits that request's window; audited with the request either way.
   */
  async presence(press: Press): Promise<unknown> {
    const verdict = this.desk.press(press);
    if ('refused' in verdict) {
      await this.broker.audit.append({
        actor: 'mcu',
        type: 'request.presence',
        decision: 'deny',
        code: 'E_PRESENCE_UNBOUND',
        details: { why: verdict.refused, durationMs: press.durationMs },
      });
      return null;
    }
    const { ticket, request } = verdict;
    await this.broker.audit.append({
      actor: 'mcu',
      type: 'request.presence',
      decision: 'allow',
      resource: request.resource,
      action: request.action,
      details: {
        ticket,
        requestId: request.requestId,
        capsule: request.capsule,
        code: verdict.code,
        durationMs: press.durationMs,
      },
    });
    return this.adminCall('presence', { ticket, by: 'button' });
  }

  /** A capsule's channel closed: its waiting asks expire (audited), so no answer issues a token to nobody. */
  channelClosed(ch: Channel): void {
    for (const [ticket, ask] of this.asks)
      if (ask.holder === ch) void this.expire(ticket, 'E_REQUEST_EXPIRED', 'the requester went away');
  }

  /**
   * The shell's channel (re)attached: it keeps only the asks that still wait here (a restarted
   * shell reloads its queue from disk; asks of a runtime that restarted wait no more).
   */
  shellAttached(): void {
    const shell = this.broker.channel(this.options.shell);
    shell?.call({ op: 'keep', tickets: [...this.asks.keys()] }, this.options.decideTimeoutMs).catch(() => undefined);
  }

  /** Ends a waiting ask: audited, the requester refused with `code`, the shell told to drop it. */
  private async expire(ticket: string, code: 'E_REQUEST_EXPIRED' | 'E_TIMEOUT', why: string): Promise<void> {
    const ask = this.asks.get(ticket);
    if (!ask) return;
    this.asks.delete(ticket);
    this.desk.remove(ticket);
    clearTimeout(ask.timer);
    ask.reject(new ElastosError(code, why));
    const { requestId, capsule, resource, action } = ask.request;
    await this.broker.audit
      .append({
        actor: 'runtime',
        type: 'request.expire',
        resource,
        action,
        code,
        details: { ticket, requestId, holder: capsule, why },
      })
      .catch(() => undefined);
    await this.broker
      .channel(this.options.shell)
      ?.call({ op: 'expire', ticket }, this.options.decideTimeoutMs)
      .catch(() => undefined);
  }

  close(): void {
    this.desk.close();
    for (const [, ask] of this.asks) {
      clearTimeout(ask.timer);
      ask.reject(new ElastosError('E_BROKER_DENIED', 'runtime stopping'));
    }
    this.asks.clear();
  }

  private async decide(request: DecisionRequest, holder: Channel): Promise<Decision> {
    const shell = this.broker.channel(this.options.shell);
    if (!shell) throw new ElastosError('E_BROKER_DENIED', 'no shell capsule is running: refused (fail closed)');
    const d = validateDecision(await shell.call({ op: 'decide', request }, this.options.decideTimeoutMs));
    if (d.decision !== 'ask') return d;
    const ticket = d.ticket;
    if (ticket === undefined) throw new ElastosError('E_IPC_SCHEMA', 'an ask needs a ticket');
    // Registered before the audit write: the shell may resolve the ticket at once.
    const resolution = new Promise<Decision>((resolve, reject) => {
      const timer = setTimeout(
        () => void this.expire(ticket, 'E_TIMEOUT', 'nobody answered the request in time'),
        this.options.askTimeoutMs,
      );
      this.asks.set(ticket, { resolve, reject, timer, holder, request });
    });
    resolution.catch(() => undefined);
    this.desk.add(ticket, request);
    // The requester may have gone while the shell decided.
    if (!holder.isOpen) void this.expire(ticket, 'E_REQUEST_EXPIRED', 'the requester went away');
    await this.broker.audit.append({
      actor: `capsule:${this.options.shell}`,
      type: 'capability.decision',
      decision: 'ask',
      details: { requestId: request.requestId, ticket },
    });
    return resolution;
  }
}
