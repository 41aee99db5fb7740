import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT, workspaces } from './workspaces.js';

/** One row of `npm run bench -- --json`; ratio = value / baseline, both measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  goal?: string;
}

function findBenchFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string, inDist: boolean) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, inDist || name === 'dist');
      else if (inDist && name.endsWith('.bench.js')) found.push(path);
    }
  };
  for (const ws of workspaces()) if (existsSync(join(REPO_ROOT, ws))) walk(join(REPO_ROOT, ws), false);
  return [...new Set(found)].sort();
}

/** Runs each benchmark file in its own Node process; each prints a JSON array of BenchResult on stdout. */
function runBench(file: string): BenchResult[] {
  process.stderr.write(`bench ${relative(REPO_ROOT, file)} ...\n`);
  const r = spawnSync(process.execPath, [file], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${relative(REPO_ROOT, file)} exited with ${r.status}`);
  return JSON.parse(r.stdout) as BenchResult[];
}

function printTable(rows: BenchResult[]): void {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
  const head = ['benchmark', 'value', 'unit', 'baseline', 'ratio', 'goal'];
  const body = rows.map((r) => [r.name, fmt(r.value), r.unit, fmt(r.baseline), r.ratio.toFixed(2), r.goal ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  for (const line of [head, ...body])
    process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
}

const json = process.argv.includes('--json');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = findBenchFiles().filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const rows = files.flatMap(runBench);
if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
else printTable(rows);
