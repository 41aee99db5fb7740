import Table from 'cli-table3';
import { painter } from './style.js';

export interface TableOptions {
  /** Total width in columns, borders included; tables fit 80 columns unless told otherwise. */
  width?: number;
}

const MIN_COL = 6; // a column never shrinks below this (padding included); long cells wrap

/** Column widths (padding included) that fit `width`: the widest column gives way first. */
export function fitColumns(natural: number[], width: number): number[] {
  const cols = natural.slice();
  const budget = width - (cols.length + 1); // one border character between and around columns
  while (cols.reduce((a, b) => a + b, 0) > budget) {
    const widest = cols.indexOf(Math.max(...cols));
    if ((cols[widest] ?? 0) <= MIN_COL) break;
    cols[widest] = (cols[widest] ?? 0) - 1;
  }
  return cols;
}

/** A table for a terminal (cli-table3): fits 80 columns, long cells wrap, header bold on a colour TTY. */
export function renderTable(head: string[], rows: Array<Array<string | number>>, options: TableOptions = {}): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const natural = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)) + 2);
  const paint = painter();
  const table = new Table({
    head: head.map((h) => paint.bold(h)),
    colWidths: fitColumns(natural, options.width ?? 80),
    wordWrap: true,
    wrapOnWordBoundary: false,
    style: { head: [], border: [] },
  });
  table.push(...cells);
  return table.toString();
}
