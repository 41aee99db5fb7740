import type { tailRecords } from '@elastos/runtime';

type Shown = Awaited<ReturnType<typeof tailRecords>>;

/** Records as JSON lines (--json) or one readable line each. */
export function printRecords(records: Shown, json: boolean): void {
  for (const r of records) {
    if (json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      continue;
    }
    const parts = [
      String(r.seq).padStart(8),
      new Date(r.time).toISOString(),
      r.actor,
      r.type,
      r.resource ?? '',
      r.action ?? '',
      r.decision ?? '',
      r.code ?? '',
      r.details ? JSON.stringify(r.details) : '',
    ];
    process.stdout.write(`${parts.filter((p) => p !== '').join('  ')}\n`);
  }
}
