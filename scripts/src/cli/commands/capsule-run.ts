/** `elastos capsule start|stop|restart|logs` and the capsule table of `elastos status`. */
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon, type GlobalOptions } from '../daemon-call.js';

interface Row {
  name: string;
  version: string;
  type: string;
  state: string;
  pid: number | null;
  restarts: number;
  usage: { memoryBytes?: number } | null;
  refused?: { code: string };
}

/** Installed capsules and their run state, one line each. */
export function printCapsuleTable(rows: Row[]): void {
  if (rows.length === 0) {
    process.stdout.write('no capsules installed\n');
    return;
  }
  const mib = (r: Row) => (r.usage?.memoryBytes ? `${(r.usage.memoryBytes / 1048576).toFixed(1)} MiB` : '-');
  const table = [
    ['CAPSULE', 'VERSION', 'TYPE', 'STATE', 'PID', 'RESTARTS', 'MEMORY'],
    ...rows.map((r) => [
      r.name,
      r.version,
      r.type,
      r.refused ? `${r.state} (${r.refused.code})` : r.state,
      r.pid === null ? '-' : String(r.pid),
      String(r.restarts),
      mib(r),
    ]),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of table) {
    const line = row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
    process.stdout.write(`${line.trimEnd()}\n`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LogChunk {
  next: number;
  lines: string[];
  rotated: boolean;
}

async function logs(opts: GlobalOptions, name: string, o: { lines: string; follow?: boolean }): Promise<unknown> {
  const lines = Number.parseInt(o.lines, 10);
  let chunk = (await callDaemon(opts, 'capsule.logs', { name, lines })) as LogChunk;
  if (opts.json && !o.follow) return chunk;
  for (;;) {
    for (const line of chunk.lines) process.stdout.write(opts.json ? `${JSON.stringify(line)}\n` : `${line}\n`);
    if (!o.follow) return undefined;
    await sleep(500);
    chunk = (await callDaemon(opts, 'capsule.logs', { name, after: chunk.next })) as LogChunk;
  }
}

/** Run-state commands of the `capsule` group (through the running runtime). */
export function registerCapsuleRunCommands(program: Command, capsule: Command): void {
  const verbs = {
    start: 're-verify, measure and start an installed capsule',
    stop: 'stop a running capsule',
    restart: 'stop, re-verify and start a capsule (a fresh crash history)',
  } as const;
  for (const [verb, description] of Object.entries(verbs)) {
    capsule
      .command(`${verb} <name>`)
      .description(description)
      .action(action(program, (opts, name: string) => callDaemon(opts, `capsule.${verb}`, { name })));
  }
  capsule
    .command('logs <name>')
    .description("print a capsule's stdout and stderr (kept by the runtime, bounded)")
    .option('-n, --lines <n>', 'how many of the last lines', '50')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .action(action(program, (opts, name: string, o: { lines: string; follow?: boolean }) => logs(opts, name, o)));
}
