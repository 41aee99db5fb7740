/**
 * The story in readable lines, read back from the audit trail (`audit.tail`): grants, uses and
 * refusals with their audit sequence numbers, so each line can be checked with
 * `elastos audit show SEQ` and the chain with `elastos audit verify`.
 */

export interface TrailRecord {
  seq: number;
  time: number;
  actor: string;
  type: string;
  resource?: string;
  action?: string;
  decision?: string;
  code?: string;
  tokenId?: string;
  details?: Record<string, unknown>;
}

const who = (actor: string) => actor.replace(/^capsule:/, '');

function duration(ms: unknown): string {
  if (typeof ms !== 'number') return '';
  if (ms % 3_600_000 === 0) return ` for ${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return ` for ${ms / 60_000} min`;
  return ` for ${Math.round(ms / 1000)} s`;
}

const what = (r: TrailRecord) => `${r.action ?? '?'} ${r.resource ?? ''}`.trim();
const short = (id: string | undefined) => (id ? id.slice(0, 8) : '?');

/** One line for a record, or undefined for records the story does not tell. */
export function storyLine(r: TrailRecord): string | undefined {
  const n = `#${String(r.seq).padStart(4)}`;
  const d = r.details ?? {};
  switch (r.type) {
    case 'capability.request':
      return `${n}  ${who(r.actor)} asks for ${what(r)}${duration(d.ttlMs)}`;
    case 'token.issue':
      return `${n}  GRANT  ${who(r.actor)} approves (${r.decision ?? 'allow'}): token ${short(r.tokenId)} to ${String(d.holder ?? '?')} for ${what(r)}`;
    case 'capability.decision':
      if (r.decision === 'ask')
        return `${n}  ASK    ${who(r.actor)} asks the admin about ${String(d.holder ?? '?')}: ${what(r)}`;
      return `${n}  DENY   ${who(r.actor)} refuses ${String(d.holder ?? '?')}: ${what(r)} (${r.code ?? 'denied'})`;
    case 'request.approve':
    case 'request.deny':
      return r.type === 'request.approve'
        ? `${n}  YES    ${r.actor} approves request ${String(d.ticket ?? '?')}`
        : `${n}  NO     ${r.actor} denies request ${String(d.ticket ?? '?')}`;
    case 'invoke':
      if (r.decision === 'deny') return `${n}  DENY   ${who(r.actor)} ${what(r)}: ${r.code ?? 'refused'}`;
      return `${n}  USE    ${who(r.actor)} ${what(r)} with token ${short(r.tokenId)}`;
    case 'denied':
      return `${n}  DENY   ${who(r.actor)} ${what(r)}: ${r.code ?? 'refused'}`;
    case 'capsule.install':
    case 'capsule.start':
    case 'capsule.exit':
    case 'capsule.crashloop':
    case 'capsule.refused':
      return `${n}  ${r.type.padEnd(17)} ${String(d.name ?? r.resource ?? '').replace(/^capsule:/, '')}${r.code ? ` ${r.code}` : ''}`;
    default:
      return undefined;
  }
}
