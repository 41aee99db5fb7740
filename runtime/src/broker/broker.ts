/**
 * The broker (runtime/spec/ipc.md §4): every capsule message passes here. Invokes are checked
 * against their token and audited (with the use count, in one synced batch) before the
 * provider sees them; capability requests go to the shell capsule, which decides.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { DEFAULT_MAX_FRAME } from '@elastos/protocol/ipc/frame';
import type { ReqMessage } from '@elastos/protocol/ipc/messages';
import { actionForMethod } from '@elastos/protocol/tokens/token';
import { decodeToken } from '@elastos/protocol/tokens/token-codec';
import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import { asElastosError, ElastosError, type ErrorCode } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { TokenService } from '../tokens/token-service.js';
import { Channel, type ChannelHandlers } from './channel.js';
import { DEFAULT_DENIAL_BUDGET, DenialBudget, type DenialBudgetOptions } from './denial-budget.js';
import { ShellLink } from './shell-link.js';
import { DEFAULT_THROTTLE, type ThrottleOptions } from './throttle.js';

export interface BrokerOptions extends ThrottleOptions, DenialBudgetOptions {
  maxFrameBytes: number;
  /** Capsule id of the shell (the policy capsule). */
  shell: string;
  invokeTimeoutMs: number;
  decideTimeoutMs: number;
  askTimeoutMs: number;
  /** How long the box shows one pending request to the button (serial.presenceWindowMs). */
  presenceWindowMs: number;
}

export const DEFAULT_BROKER: BrokerOptions = {
  ...DEFAULT_THROTTLE,
  ...DEFAULT_DENIAL_BUDGET,
  maxFrameBytes: DEFAULT_MAX_FRAME,
  shell: 'shell',
  invokeTimeoutMs: 30_000,
  decideTimeoutMs: 10_000,
  askTimeoutMs: 300_000,
  presenceWindowMs: 30_000,
};

export class Broker implements ChannelHandlers {
  private readonly channels = new Map<string, Channel>();
  private readonly stoppedListeners = new Set<(capsule: string, code: ErrorCode | undefined) => void>();
  readonly options: BrokerOptions;
  readonly shell: ShellLink;
  private readonly denials: DenialBudget;

  constructor(
    readonly tokens: TokenService,
    readonly audit: AuditSink,
    private readonly log: Logger,
    options: Partial<BrokerOptions> = {},
  ) {
    this.options = { ...DEFAULT_BROKER, ...options };
    this.shell = new ShellLink(this, this.options);
    this.denials = new DenialBudget(audit, log, this.options);
  }

  /** The supervisor hands over the runtime's end of a capsule's fd 3. */
  attach(capsule: string, socket: Socket): Channel {
    if (this.channels.get(capsule)?.isOpen) throw new ElastosError('E_CAPSULE_EXISTS', `${capsule} is attached`);
    const ch = new Channel(capsule, socket, this, this.options);
    this.channels.set(capsule, ch);
    if (capsule === this.options.shell) this.shell.shellAttached();
    return ch;
  }

  channel(capsule: string): Channel | undefined {
    const ch = this.channels.get(capsule);
    return ch?.isOpen ? ch : undefined;
  }

  /** Called when the broker stops a channel (flood, garbage): the supervisor stops the process. */
  onStopped(listener: (capsule: string, code: ErrorCode | undefined) => void): void {
    this.stoppedListeners.add(listener);
  }

  close(): void {
    for (const ch of this.channels.values()) ch.stop(undefined, 'runtime stopping');
    this.shell.close();
    void this.denials.close();
  }

  request(ch: Channel, msg: ReqMessage): Promise<unknown> {
    if (msg.op === 'invoke') return this.invoke(ch, msg);
    if (msg.op === 'request-capability') return this.shell.requestCapability(ch, msg);
    return this.delegate(ch, msg);
  }

  event(ch: Channel, msg: Record<string, unknown>): void {
    if (ch.id !== this.options.shell) throw new ElastosError('E_IPC_SCHEMA', 'only the shell sends events');
    this.shell.resolved(msg);
  }

  closed(ch: Channel, code: ErrorCode | undefined, why: string): void {
    if (this.channels.get(ch.id) === ch) this.channels.delete(ch.id);
    this.shell.channelClosed(ch);
    if (code === undefined) return;
    this.log.warn({ capsule: ch.id, code }, why);
    this.audit
      .append({ actor: 'runtime', type: 'capsule.stopped', code, details: { capsule: ch.id, why } })
      .catch(() => {
        this.log.error({ code: 'E_AUDIT_WRITE', capsule: ch.id }, 'could not audit a stopped capsule');
      });
    for (const l of this.stoppedListeners) l(ch.id, code);
  }

  throttled(ch: Channel, why: string): void {
    this.audit
      .append({ actor: ch.actor, type: 'ipc.throttled', code: 'E_IPC_THROTTLED', details: { why } })
      .catch(() => {
        this.log.error({ code: 'E_AUDIT_WRITE', capsule: ch.id }, 'could not audit a throttle');
      });
  }

  /** Audits a refusal with its code (within the capsule's budget, else in its summary), then rethrows it. */
  async deny(ch: Channel, event: Partial<AuditEvent>, err: unknown): Promise<never> {
    const e = asElastosError(err);
    const type = event.type ?? 'denied';
    if (this.denials.take(ch.actor, type, e.code))
      await this.audit.append({ actor: ch.actor, type: 'denied', ...event, decision: 'deny', code: e.code });
    throw e;
  }

  /** The hot path: twelve checks, one audited use (with its count), then the provider. */
  private async invoke(ch: Channel, msg: ReqMessage): Promise<unknown> {
    const provider = msg.provider as string;
    const method = msg.method as string;
    const action = actionForMethod(method);
    let event: AuditEvent | undefined;
    try {
      const target = this.channels.get(provider);
      if (!target?.isOpen) throw new ElastosError('E_BROKER_NO_PROVIDER', `no running provider ${provider}`);
      const use = this.tokens.check(msg.token, {
        holder: ch.id,
        audience: provider,
        resource: msg.resource as string,
        action,
      });
      const c = use.token.claims;
      event = { actor: ch.actor, type: 'invoke', resource: use.resource, action, tokenId: c.id, decision: 'allow' };
      if (c.caveats?.audit === 'detail') event.details = { args: JSON.stringify(msg.args ?? null).slice(0, 1024) };
      await this.audit.append(event, use.ops);
      const call = {
        op: 'invoke',
        caller: ch.id,
        method,
        resource: use.resource,
        args: msg.args ?? null,
        token: msg.token,
      };
      return await target.call(call, this.options.invokeTimeoutMs);
    } catch (err) {
      if (event === undefined)
        return this.deny(
          ch,
          { type: 'invoke', resource: String(msg.resource).slice(0, 1024), action, ...presented(msg.token) },
          err,
        );
      throw err;
    }
  }

  private async delegate(ch: Channel, msg: ReqMessage): Promise<unknown> {
    const { holder, resource, action, ttlMs, maxUses } = msg as ReqMessage & {
      holder: string;
      resource?: string;
      action?: string;
      ttlMs?: number;
      maxUses?: number;
    };
    try {
      const t = await this.tokens.delegate(msg.token, ch.id, { holder, resource, action, ttlMs, maxUses });
      return { token: t.encoded, id: t.claims.id, expiry: t.claims.expiry, maxUses: t.claims.maxUses };
    } catch (err) {
      if (asElastosError(err).code === 'E_AUDIT_WRITE') throw err;
      const carried = presented(msg.token);
      return this.deny(ch, { type: 'delegate', ...carried, details: { holder, ...carried.details } }, err);
    }
  }
}

/**
 * Names the token a refused request carried (runtime/spec/audit.md §3): the id it claims when it
 * decodes (verified or not: the record's code says why it was refused) and a digest of its
 * text, so even an undecodable token can be matched to what a capsule sent.
 */
function presented(token: unknown): { tokenId?: string; details: { token: string } } {
  const text = typeof token === 'string' ? token : JSON.stringify(token ?? null);
  const details = { token: createHash('sha256').update(String(text)).digest('hex').slice(0, 32) };
  try {
    return { tokenId: decodeToken(token).claims.id, details };
  } catch {
    return { details };
  }
}
