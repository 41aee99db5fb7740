/**
 * Durable audit appends per second: group commit with many concurrent appenders, against one
 * synced classic-level put per record, both in this run (runtime/spec/audit.md §5).
 * Prints one JSON array of {name, value, unit, baseline, ratio, goal}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import { packRecord, recordKey } from './layout.js';
import { chainHash, encodeRecord, GENESIS_HASH } from './record.js';

const event = (i: number) => ({
  actor: `capsule:${(i % 16).toString(16).padStart(8, '0')}`,
  type: 'invoke',
  resource: `storage://photos/${i}.jpg`,
  action: 'read',
  decision: 'allow' as const,
  tokenId: `tok-${i % 97}`,
});

/** One synced put per record, chained the same way: the baseline. */
async function oneSyncedPutEach(store: Store, ms: number): Promise<number> {
  const start = performance.now();
  let prev = GENESIS_HASH;
  let n = 0;
  while (performance.now() - start < ms) {
    const bytes = encodeRecord({ ...event(n), v: 1, seq: n, time: Date.now() });
    prev = chainHash(prev, bytes);
    await store.put('audit', recordKey(n), packRecord(prev, bytes), { sync: true });
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

/** `appenders` concurrent callers, each appending as soon as its last append is durable. */
export async function groupCommit(log: AuditLog, appenders: number, ms: number): Promise<number> {
  const start = performance.now();
  let n = 0;
  const worker = async (w: number) => {
    while (performance.now() - start < ms) {
      await log.append(event(w * 1_000_000 + n));
      n++;
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, w) => worker(w)));
  return n / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'elastos-audit-bench-'));
  try {
    const base = await Store.open(join(dir, 'baseline'));
    const baseline = await oneSyncedPutEach(base, 2000);
    await base.close();
    const store = await Store.open(join(dir, 'group'));
    const log = await AuditLog.open(store);
    await groupCommit(log, 256, 300); // warm-up
    const value = await groupCommit(log, Number(process.env.APPENDERS ?? 256), 3000);
    await log.close();
    await store.close();
    const row = {
      name: 'audit durable appends (group commit, 256 appenders) vs one synced put each',
      value: Math.round(value),
      unit: 'appends/s',
      baseline: Math.round(baseline),
      ratio: value / baseline,
      goal: '>= 20000 appends/s',
    };
    process.stdout.write(`${JSON.stringify([row])}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
