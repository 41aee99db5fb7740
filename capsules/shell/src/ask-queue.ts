/**
 * Requests the policy wants a human to decide: the admin (`elastos requests|approve|deny`,
 * relayed by the runtime) or physical presence (a long press of the board's button, through
 * the firmware bridge: call `presence()`). Each answer goes back to the runtime as a
 * `resolved` event.
 */
import { randomBytes } from 'node:crypto';
import { ElastosError } from '@elastos/protocol/errors';
import type { PendingAsk } from '@elastos/protocol/ipc/decision';
import type { Decision, DecisionRequest } from './policy.js';

export type { PendingAsk };

interface Entry extends PendingAsk {
  grant: Decision;
}

export type Resolved = (ticket: string, decision: Decision, request: DecisionRequest, by: string) => void;

export class AskQueue {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly onResolved: Resolved) {}

  /** Queues a request; `grant` is the allow it becomes if approved. */
  add(request: DecisionRequest, grant: Decision): string {
    const ticket = randomBytes(4).toString('hex');
    this.entries.set(ticket, { ticket, request, since: new Date().toISOString(), grant });
    return ticket;
  }

  list(): PendingAsk[] {
    return [...this.entries.values()].map(({ ticket, request, since }) => ({ ticket, request, since }));
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

  /** The physical-presence hook: a long press approves the oldest pending request. */
  presence(): Decision | undefined {
    const oldest = this.entries.keys().next().value;
    return oldest === undefined ? undefined : this.approve(oldest, 'button');
  }

  private take(ticket: string): Entry {
    const e = this.entries.get(ticket);
    if (!e) throw new ElastosError('E_REQUEST_NOT_FOUND', `no pending request ${ticket}`);
    this.entries.delete(ticket);
    return e;
  }
}
