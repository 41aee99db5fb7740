/**
 * `audit.tail` with `follow` (runtime/spec/admin.md §Subscriptions): the records after `after`
 * (or from the next one), then each new one as it is committed, as event lines, until the
 * client closes the connection. A `tail -f` without polling.
 */

import { decodeRecord, toHex } from '@elastos/protocol/audit/record';
import type { AdminCallContext } from '../admin/index.js';
import type { AuditLog, CommittedRecord } from './audit-log.js';
import { matches, type ShownRecord, type TailQuery, tailRecords } from './query.js';

const PAGE = 500;

export async function followTrail(log: AuditLog, q: TailQuery, call: AdminCallContext): Promise<null> {
  // Listen first and hold live records back until the backlog is out: none falls in the gap.
  const held: CommittedRecord[] = [];
  let live = false;
  let sent = q.after ?? log.head.next - 1;
  const send = (r: ShownRecord) => {
    if (r.seq <= sent || !matches(r, q)) return;
    sent = r.seq;
    call.event(r);
  };
  const shown = (c: CommittedRecord): ShownRecord => ({ ...decodeRecord(c.bytes), hash: toHex(c.hash) });
  const off = log.onCommit((records) => {
    if (live) for (const c of records) send(shown(c));
    else held.push(...records);
  });
  try {
    for (;;) {
      const page = await tailRecords(log.store, { ...q, after: sent, limit: PAGE });
      for (const r of page) send(r);
      if (page.length < PAGE) break;
    }
    for (const c of held) send(shown(c));
    live = true;
    await call.closed;
  } finally {
    off();
  }
  return null;
}
