/**
 * The boundary check of `npm test` (issue 18): dependency-cruiser validates every workspace's
 * sources against `.dependency-cruiser.cjs`, and the package picture in `architecture.md` must
 * equal the one drawn from the same cruise. `--write` redraws the picture (`npm run architecture`).
 *
 *   node scripts/dist/test/boundaries.js [--write]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, workspaces } from '../workspaces.js';

interface Dependency {
  resolved: string;
  coreModule: boolean;
  couldNotResolve: boolean;
}
interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}
interface CruiseResult {
  modules: Array<{ source: string; dependencies: Dependency[] }>;
  summary: { violations: Violation[] };
}

/** Packages of the picture, by path prefix (first match wins); tests and rigs are not drawn. */
const PACKAGES: Array<[RegExp, string]> = [
  [/^runtime\/protocol\//, 'protocol'],
  [/^runtime\/node-tpm2\//, 'node-tpm2'],
  [/^runtime\/verifier\//, 'verifier'],
  [/^runtime\/bench\//, ''],
  [/^runtime\//, 'runtime'],
  [/^capsules\/sdk\//, 'sdk'],
  [/^capsules\/shell\//, 'shell'],
  [/^capsules\/([^/]+)\//, 'capsules'],
  [/^firmware-bridge\//, 'firmware-bridge'],
  [/^scripts\/testkit\//, ''],
  [/^scripts\/publisher\//, 'publisher'],
  [/^scripts\/src\/cli\//, 'cli'],
  [/^scripts\/src\/capsule\//, 'cli'],
  [/^scripts\//, 'dev-scripts'],
];
const NOT_DRAWN = /(\.test\.ts$|\.bench\.ts$|\/fixtures\/|^firmware-bridge\/src\/testing\/)/;

const BEGIN = '```mermaid';
const END = '```';

function packageOf(path: string): string {
  for (const [re, name] of PACKAGES) if (re.test(path)) return name;
  return '';
}

/** The source folders of every workspace (each workspace's `src`). */
export function sourceDirs(): string[] {
  return workspaces()
    .map((ws) => join(ws, 'src'))
    .filter((dir) => existsSync(join(REPO_ROOT, dir)));
}

/** Runs dependency-cruiser once over `dirs` with the rules file; `baseDir` is where paths are relative to. */
export function cruise(dirs: string[], baseDir = REPO_ROOT, config = join(REPO_ROOT, '.dependency-cruiser.cjs')) {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');
  const r = spawnSync(bin, ['--config', config, '--output-type', 'json', ...dirs], {
    cwd: baseDir,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error || !r.stdout) throw new Error(`depcruise did not run: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout) as CruiseResult;
}

/** The package picture (mermaid) of shipped code: one arrow per package that imports another. */
export function drawPackages(result: CruiseResult): string {
  const edges = new Set<string>();
  for (const m of result.modules) {
    if (NOT_DRAWN.test(m.source)) continue;
    const from = packageOf(m.source);
    if (!from) continue;
    for (const d of m.dependencies) {
      const to = d.coreModule || d.couldNotResolve ? '' : packageOf(d.resolved);
      if (to && to !== from) edges.add(`  ${from} --> ${to}`);
    }
  }
  return [BEGIN, 'flowchart TD', ...[...edges].sort(), END].join('\n');
}

function pictureIn(markdown: string): string {
  const at = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(`\n${END}`, at + BEGIN.length);
  return at < 0 || end < 0 ? '' : markdown.slice(at, end + END.length + 1);
}

function main(): void {
  const write = process.argv.includes('--write');
  const result = cruise(sourceDirs());
  for (const v of result.summary.violations) {
    process.stderr.write(`error E_BOUNDARY: ${v.rule.name}: ${v.from} imports ${v.to}\n`);
  }
  const file = join(REPO_ROOT, 'architecture.md');
  const markdown = readFileSync(file, 'utf8');
  const drawn = drawPackages(result);
  if (write) writeFileSync(file, markdown.replace(pictureIn(markdown), drawn));
  else if (pictureIn(markdown) !== drawn) {
    process.stderr.write(
      `error E_BOUNDARY: architecture.md's picture is not the cruised one; run npm run architecture:\n${drawn}\n`,
    );
    process.exit(1);
  }
  const n = result.summary.violations.length;
  process.stdout.write(`${result.modules.length} modules cruised, ${n} boundary violation(s)\n`);
  if (n > 0) process.exit(1);
}

if (process.argv[1]?.endsWith('boundaries.js')) main();
