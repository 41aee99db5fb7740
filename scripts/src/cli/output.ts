import { asElastosError } from '@elastos/runtime';

/** Prints a result: JSON with --json, else `key: value` lines. */
export function printResult(result: unknown, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const entries = Object.entries(result as Record<string, unknown>);
    const width = Math.max(0, ...entries.map(([k]) => k.length));
    for (const [key, value] of entries) {
      const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
      process.stdout.write(`${key.padEnd(width)}  ${text}\n`);
    }
    return;
  }
  process.stdout.write(`${String(result)}\n`);
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

/** Prints an error as `error CODE: message` (or as JSON with --json) and exits with the code's status. */
export function failWith(err: unknown, json: boolean): never {
  const e = asElastosError(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
  process.stderr.write(`${e.toLine()}\n`);
  process.exit(e.exitCode);
}
