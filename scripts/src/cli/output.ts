import { asElastosError } from '@elastos/runtime';
import { painter } from './style.js';
import { renderTable } from './table.js';

type Row = Record<string, unknown>;

const cell = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

const isRow = (v: unknown): v is Row => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Prints a result: JSON with --json; else a list of objects as a table, an object as `key  value` lines. */
export function printResult(result: unknown, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (Array.isArray(result) && result.length > 0 && result.every(isRow)) {
    const head = [...new Set(result.flatMap((r) => Object.keys(r)))];
    process.stdout.write(
      `${renderTable(
        head,
        result.map((r) => head.map((k) => cell(r[k]))),
      )}\n`,
    );
    return;
  }
  if (isRow(result)) {
    const entries = Object.entries(result);
    const width = Math.max(0, ...entries.map(([k]) => k.length));
    const paint = painter(process.stdout);
    for (const [key, value] of entries) process.stdout.write(`${paint.bold(key.padEnd(width))}  ${cell(value)}\n`);
    return;
  }
  process.stdout.write(`${Array.isArray(result) && result.length === 0 ? '(none)' : String(result)}\n`);
}

/** Prints rows as aligned columns, or `empty` when there are none. */
export function printTable(head: string[], rows: string[][], empty: string): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const table = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  for (const row of table)
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Prints an error as `error CODE: message` (and as JSON on stdout with --json); exits with the code's status. */
export function failWith(err: unknown, json: boolean): never {
  const e = asElastosError(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
  const paint = painter(process.stderr);
  process.stderr.write(`${paint.red(`error ${e.code}`)}: ${e.message}\n`);
  process.exit(e.exitCode);
}
