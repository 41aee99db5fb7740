import type { HealthReading as Reading } from '@elastos/runtime';
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon } from '../daemon-call.js';
import { formatBytes, painter } from '../style.js';
import { renderTable } from '../table.js';

const opt = (v: number | undefined, f: (n: number) => string) => (v === undefined ? '-' : f(v));

function printReading(r: Reading): void {
  const paint = painter(process.stdout);
  const pct = (n: number) => (n >= 90 ? paint.red : n >= 75 ? paint.yellow : (s: string) => s)(`${n.toFixed(1)}%`);
  const temp = r.cpu.temperatureC === null ? 'no sensor' : `${r.cpu.temperatureC.toFixed(1)} °C`;
  const m = r.memory;
  const lines = [
    ['sampled', r.sampledAt],
    [
      'cpu',
      `${pct(r.cpu.loadPercent)} of ${r.cpu.cores} cores, load ${r.cpu.loadAverage.map((a) => a.toFixed(2)).join(' ')}`,
    ],
    ['temperature', temp],
    [
      'memory',
      `${formatBytes(m.usedBytes)} used of ${formatBytes(m.totalBytes)} (${pct((100 * m.usedBytes) / m.totalBytes)})`,
    ],
    [
      'swap',
      m.swapTotalBytes === 0 ? 'none' : `${formatBytes(m.swapUsedBytes)} used of ${formatBytes(m.swapTotalBytes)}`,
    ],
  ];
  for (const [k, v] of lines) process.stdout.write(`${paint.bold((k ?? '').padEnd(12))}${v}\n`);
  const disks = r.disks.map((d) => [
    d.mount,
    d.fs,
    formatBytes(d.sizeBytes),
    formatBytes(d.usedBytes),
    pct(d.usePercent),
  ]);
  process.stdout.write(`${renderTable(['mount', 'device', 'size', 'used', 'use'], disks)}\n`);
  if (r.capsules.length === 0) {
    process.stdout.write(`${paint.bold('capsules'.padEnd(12))}none running\n`);
    return;
  }
  const caps = r.capsules.map((c) => [
    c.name ?? c.id,
    opt(c.memoryBytes, formatBytes),
    opt(c.pids, String),
    opt(c.cpuUsageUsec, (u) => `${(u / 1e6).toFixed(1)} s`),
  ]);
  process.stdout.write(`${renderTable(['capsule', 'memory', 'pids', 'cpu time'], caps)}\n`);
}

/** `health`: the runtime's last sample of temperature, load, memory, disks and per-capsule usage. */
export function registerHealthCommands(program: Command): void {
  program
    .command('health')
    .description('show temperature, load, memory, disks and per-capsule usage (the runtime samples them on a timer)')
    .action(
      action(program, async (opts) => {
        const reading = (await callDaemon(opts, 'health')) as Reading;
        if (opts.json) return reading;
        printReading(reading);
        return undefined;
      }),
    );
}
