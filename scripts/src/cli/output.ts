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

/** Prints an error as `error CODE: message` (or as JSON with --json) and exits with the code's status. */
export function failWith(err: unknown, json: boolean): never {
  const e = asElastosError(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
  process.stderr.write(`${e.toLine()}\n`);
  process.exit(e.exitCode);
}
