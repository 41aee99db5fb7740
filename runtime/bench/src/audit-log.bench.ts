/**
 * Durable audit appends per second: group commit with many concurrent appenders, against one
 * synced classic-level put per record, both in this run (runtime/spec/audit.md §5).
 * Prints one JSON array of {name, value, unit, baseline, ratio, goal}.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { chainHash, encodeRecord, GENESIS_HASH } from '@elastos/protocol/audit/record';
import { AuditLog } from '@elastos/runtime/audit/audit-log';
import { CountedAnchor } from '@elastos/runtime/audit/fixtures/counted-anchor';
import { TestEd25519Key } from '@elastos/runtime/audit/fixtures/test-key';
import { packRecord, recordKey } from '@elastos/runtime/audit/layout';
import { TpmNvAnchor } from '@elastos/runtime/boot/nv-anchor';
import { parseConfig } from '@elastos/runtime/config/index';
import { Store } from '@elastos/runtime/store/index';
import { Swtpm } from '@elastos/testkit';

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

const APPENDERS = Number(process.env.APPENDERS ?? 256);
const ROUNDS = 5;
const ROUND_MS = 800;

/** Opens a log with checkpoints at the config defaults, anchored in a real swtpm as the daemon does (node-tpm2). */
async function anchoredLog(
  dir: string,
  swtpm: Swtpm,
): Promise<{ log: AuditLog; store: Store; tpm: Tpm; count: () => number }> {
  const tpm = await Tpm.open(swtpm.tcti);
  const anchor = await TpmNvAnchor.open(tpm, { extendIndex: 0x01000d01, counterIndex: 0x01000d02 });
  const store = await Store.open(join(dir, 'anchored'));
  const key = await TestEd25519Key.generate();
  const { checkpointEntries: entries, checkpointMs: ms } = parseConfig(
    { profile: 'dev', runDir: '.', stateDir: '.' },
    dir,
  ).audit;
  const log = await AuditLog.open(store, { checkpoints: { key, anchor, entries, ms } });
  let anchored = 0;
  log.checkpoints?.onCheckpoint(() => anchored++);
  return { log, store, tpm, count: () => anchored };
}

/** Anchoring off and on, in interleaved rounds so that the other tenants' load hits both alike. */
async function offAndOn(dir: string, swtpm: Swtpm): Promise<{ off: number; on: number; checkpoints: number }> {
  const plainStore = await Store.open(join(dir, 'group'));
  const plain = await AuditLog.open(plainStore);
  const anchored = await anchoredLog(dir, swtpm);
  await groupCommit(plain, APPENDERS, 300); // warm-up
  await groupCommit(anchored.log, APPENDERS, 300);
  let off = 0;
  let on = 0;
  for (let r = 0; r < ROUNDS; r++) {
    off += (await groupCommit(plain, APPENDERS, ROUND_MS)) / ROUNDS;
    on += (await groupCommit(anchored.log, APPENDERS, ROUND_MS)) / ROUNDS;
  }
  await plain.close();
  await plainStore.close();
  await anchored.log.close();
  await anchored.store.close();
  await anchored.tpm.close();
  return { off, on, checkpoints: anchored.count() };
}

/** The invoke rate of the broker's throughput benchmark on this machine kind (FACTS.md: 14-16k/s). */
const INVOKE_RATE = Number(process.env.INVOKE_RATE ?? 15_000);
const NV_RUN_MS = 8000;

/** Appends at `rate` per second (in 10 ms ticks) for `ms`. */
async function paced(log: AuditLog, rate: number, ms: number): Promise<void> {
  const start = performance.now();
  const perTick = Math.max(1, Math.round(rate / 100));
  for (let tick = 0; performance.now() - start < ms; tick++) {
    await Promise.all(Array.from({ length: perTick }, (_, i) => log.append(event(tick * perTick + i))));
    const wait = start + (tick + 1) * 10 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * NV writes per hour at INVOKE_RATE with checkpoints at the config defaults and anchorings every
 * `anchorMs`. The checkpointer's clock runs `speedup` times faster than the wall clock, so that an
 * hour of anchoring policy passes in a few seconds; the appends and checkpoints are real.
 */
async function nvWritesPerHour(dir: string, swtpm: Swtpm, anchorMs: number, speedup: number, at: number) {
  const tpm = await Tpm.open(swtpm.tcti);
  const anchor = new CountedAnchor(await TpmNvAnchor.open(tpm, { extendIndex: at, counterIndex: at + 1 }));
  const store = await Store.open(join(dir, `nv-${at}`));
  const { checkpointEntries: entries, checkpointMs: ms } = parseConfig(
    { profile: 'dev', runDir: '.', stateDir: '.' },
    dir,
  ).audit;
  const t0 = Date.now();
  const clock = () => t0 + (Date.now() - t0) * speedup;
  const key = await TestEd25519Key.generate();
  const log = await AuditLog.open(store, { checkpoints: { key, anchor, entries, ms, anchorMs, clock } });
  const before = anchor.writes;
  const start = performance.now();
  await paced(log, INVOKE_RATE, NV_RUN_MS);
  await log.flush();
  await log.checkpoints?.checkpoint();
  const hours = ((performance.now() - start) * speedup) / 3_600_000;
  const writes = anchor.writes - before;
  await log.close();
  await store.close();
  await tpm.close();
  return writes / hours;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'elastos-audit-bench-'));
  const swtpm = new Swtpm(join(dir, 'tpm'));
  await swtpm.start();
  try {
    const base = await Store.open(join(dir, 'baseline'));
    const baseline = await oneSyncedPutEach(base, 2000);
    await base.close();
    const { off, on, checkpoints } = await offAndOn(dir, swtpm);
    const { anchorMs } = parseConfig({ profile: 'dev', runDir: '.', stateDir: '.' }, dir).audit;
    const everyCheckpoint = await nvWritesPerHour(dir, swtpm, 0, 1, 0x01000d11);
    const budgeted = await nvWritesPerHour(dir, swtpm, anchorMs, 3_600_000 / (NV_RUN_MS / 4), 0x01000d21);
    const rows = [
      {
        name: `audit durable appends (group commit, ${APPENDERS} appenders) vs one synced put each`,
        value: Math.round(off),
        unit: 'appends/s',
        baseline: Math.round(baseline),
        ratio: off / baseline,
        goal: '>= 20000 appends/s',
      },
      {
        name: `audit appends with TPM-anchored checkpoints (config defaults, ${checkpoints} checkpoints) vs anchoring off`,
        value: Math.round(on),
        unit: 'appends/s',
        baseline: Math.round(off),
        ratio: on / off,
        goal: 'ratio near 1: the TPM does not cap appends',
      },
      {
        name: `audit TPM NV writes per hour at ${INVOKE_RATE} invokes/s (anchorMs ${anchorMs}) vs anchoring every checkpoint`,
        value: budgeted,
        unit: 'NV writes/h',
        baseline: everyCheckpoint,
        ratio: budgeted / everyCheckpoint,
        goal: '<= 2.28/h: 100,000 writes per NV index in ten years (spec/audit.md §7.2)',
      },
    ];
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } finally {
    await swtpm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
