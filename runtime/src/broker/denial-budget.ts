/**
 * A per-capsule audit budget for refusals (runtime/spec/ipc.md §5): each capsule's first
 * `recordsPerWindow` refusals of a window get their own synced record; the rest are counted and
 * summarised in one `denied.summary` record when the window ends. A capsule that hammers a
 * denied request costs the disk one record per window, not one per request, and can no longer
 * fill it until every request fails with E_AUDIT_WRITE. Each refusal still answers its code.
 */
import type { AuditSink } from '../audit/audit-sink.js';
import type { ErrorCode } from '../errors/index.js';
import type { Logger } from '../log/index.js';

export interface DenialBudgetOptions {
  /** Refusals recorded one by one per capsule and window. */
  deniedRecordsPerWindow: number;
  deniedWindowMs: number;
}

export const DEFAULT_DENIAL_BUDGET: DenialBudgetOptions = { deniedRecordsPerWindow: 100, deniedWindowMs: 10_000 };

interface Window {
  recorded: number;
  /** `type:code` -> refusals not recorded one by one, and their code. */
  suppressed: Map<string, { code: ErrorCode; n: number }>;
  timer: NodeJS.Timeout;
}

export class DenialBudget {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly audit: AuditSink,
    private readonly log: Logger,
    private readonly o: DenialBudgetOptions,
  ) {}

  /** True: record this refusal on its own. False: it is counted into the actor's summary. */
  take(actor: string, type: string, code: ErrorCode): boolean {
    let w = this.windows.get(actor);
    if (w === undefined) {
      w = { recorded: 0, suppressed: new Map(), timer: setTimeout(() => this.flush(actor), this.o.deniedWindowMs) };
      w.timer.unref();
      this.windows.set(actor, w);
    }
    if (w.recorded < this.o.deniedRecordsPerWindow) {
      w.recorded++;
      return true;
    }
    const key = `${type}:${code}`;
    const seen = w.suppressed.get(key) ?? { code, n: 0 };
    seen.n++;
    w.suppressed.set(key, seen);
    return false;
  }

  /** Ends every window now (the runtime is stopping): their summaries are written. */
  close(): Promise<void> {
    return Promise.all([...this.windows.keys()].map((a) => this.flush(a))).then(() => undefined);
  }

  private async flush(actor: string): Promise<void> {
    const w = this.windows.get(actor);
    if (w === undefined) return;
    this.windows.delete(actor);
    clearTimeout(w.timer);
    if (w.suppressed.size === 0) return;
    const counts = Object.fromEntries([...w.suppressed].map(([k, v]) => [k, v.n]));
    const top = [...w.suppressed.values()].sort((a, b) => b.n - a.n)[0];
    const total = [...w.suppressed.values()].reduce((a, b) => a + b.n, 0);
    await this.audit
      .append({
        actor,
        type: 'denied.summary',
        decision: 'deny',
        code: top?.code ?? 'E_INTERNAL',
        details: { suppressed: total, byTypeAndCode: counts, windowMs: this.o.deniedWindowMs },
      })
      .catch(() => this.log.error({ code: 'E_AUDIT_WRITE', actor }, 'could not audit a refusal summary'));
  }
}
