/**
 * Requests the policy wants a human to decide: the admin (`elastos requests|approve|deny`,
 * relayed by the runtime) or physical presence (a long press of the board's button, which the
 * runtime binds to one shown request: `presence(ticket)`). Each answer goes back to the runtime as
 * a `resolved` event. The queue survives a restart of the shell (`ask-file.ts`); the runtime
 * expires an ask whose requester went away or waited too long (`expire`), and on the shell's
 * (re)start says which asks still wait (`keep`).
 */
import { randomBytes } from 'node:crypto';
import { ElastosError } from '@elastos/protocol/errors';
import type { PendingAsk } from '@elastos/protocol/ipc/decision';
import { loadAsks, type StoredAsk, saveAsks } from './ask-file.js';
import type { Decision, DecisionRequest } from './policy.js';

export type { PendingAsk };

export type Resolved = (ticket: string, decision: Decision, request: DecisionRequest, by: string) => void;

export class AskQueue {
  private readonly entries = new Map<string, StoredAsk>();

  /** `file`: where the queue persists (the shell's data dir); none keeps it in memory only. */
  constructor(
    private readonly onResolved: Resolved,
    private readonly file?: string,
  ) {
    for (const a of loadAsks(file)) this.entries.set(a.ticket, a);
  }

  /** Queues a request; `grant` is the allow it becomes if approved, `why` the policy's reason to ask. */
  add(request: DecisionRequest, grant: Decision, why: string): string {
    const ticket = randomBytes(4).toString('hex');
    const reason = request.reason ? `${why} (${request.capsule}: ${request.reason})` : why;
    this.entries.set(ticket, { ticket, request, since: new Date().toISOString(), reason, grant });
    this.save();
    return ticket;
  }

  list(): PendingAsk[] {
    return [...this.entries.values()].map(({ ticket, request, since, reason }) => ({ ticket, request, since, reason }));
  }

  approve(ticket: string, by: string): Decision {
    const e = this.take(ticket);
    this.onResolved(ticket, e.grant, e.request, by);
    return e.grant;
  }

  deny(ticket: string, by: string): Decision {
    const e = this.take(ticket);
    const d: Decision = { decision: 'deny', reason: `denied by ${by}` };
    this.onResolved(ticket, d, e.request, by);
    return d;
  }

  /** The runtime gave up on the ask (requester gone, or timed out): nobody can answer it any more. */
  expire(ticket: string): boolean {
    const had = this.entries.delete(ticket);
    if (had) this.save();
    return had;
  }

  /** The runtime's live tickets at the shell's start: the rest waited on a runtime that is gone. */
  keep(tickets: string[]): string[] {
    const live = new Set(tickets);
    const dropped = [...this.entries.keys()].filter((t) => !live.has(t));
    for (const t of dropped) this.entries.delete(t);
    if (dropped.length > 0) this.save();
    return dropped;
  }

  /** The physical-presence hook: a long press approves the one request the runtime bound it to. */
  presence(ticket: string): Decision {
    return this.approve(ticket, 'button');
  }

  private take(ticket: string): StoredAsk {
    const e = this.entries.get(ticket);
    if (!e) throw new ElastosError('E_REQUEST_NOT_FOUND', `no pending request ${ticket}`);
    this.entries.delete(ticket);
    this.save();
    return e;
  }

  private save(): void {
    saveAsks(this.file, [...this.entries.values()]);
  }
}
