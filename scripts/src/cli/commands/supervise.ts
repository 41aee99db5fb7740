import type { CapsuleStatus } from '@elastos/runtime';
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon } from '../daemon-call.js';

function printTable(rows: CapsuleStatus[]): void {
  if (rows.length === 0) {
    process.stdout.write('no capsules supervised\n');
    return;
  }
  const head = ['name', 'state', 'pid', 'uid', 'restarts', 'memory MB', 'cpu s', 'pids', 'last exit'];
  const body = rows.map((r) => [
    r.name,
    r.state,
    String(r.pid ?? '-'),
    String(r.uid),
    String(r.restarts),
    r.usage ? (r.usage.memoryBytes / 1e6).toFixed(1) : '-',
    r.usage ? (r.usage.cpuUsec / 1e6).toFixed(2) : '-',
    String(r.usage?.pids ?? '-'),
    r.lastExit ? (r.lastExit.cause ?? `exit ${r.lastExit.code ?? r.lastExit.signal}`) : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  for (const line of [head, ...body])
    process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
}

/** `ps`: the capsules the running runtime supervises, with their cgroup readings. */
export function registerSuperviseCommands(program: Command): void {
  program
    .command('ps')
    .description('list supervised capsules: state, pid, uid, restarts, memory, CPU and pids from their cgroups')
    .action(
      action(program, async (opts) => {
        const rows = (await callDaemon(opts, 'supervise.list')) as CapsuleStatus[];
        if (opts.json === true) return rows;
        printTable(rows);
        return undefined;
      }),
    );
}
