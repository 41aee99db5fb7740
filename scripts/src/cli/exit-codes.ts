import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ERROR_CODES } from '@elastos/runtime';
import { REPO_ROOT } from '../workspaces.js';

/** sysexits(3) meanings of the statuses the codes use. */
const MEANING: Record<number, string> = {
  64: 'usage: bad command line',
  65: 'bad data: malformed or failed verification',
  66: 'not found',
  69: 'unavailable: not running, not installed, missing hardware',
  70: 'internal failure (a bug: see the log)',
  73: 'already exists',
  74: 'I/O: store, disk or audit write',
  75: 'temporary: retry later',
  76: 'protocol: malformed admin request or reply',
  77: 'permission denied',
  78: 'configuration',
};

const START = '<!-- exit-codes:start (generated from runtime/protocol/src/errors/codes.ts) -->';
const END = '<!-- exit-codes:end -->';

/** The markdown table of exit statuses and the error codes that use each one. */
export function exitCodeTable(): string {
  const byExit = new Map<number, string[]>();
  for (const [code, { exit }] of Object.entries(ERROR_CODES)) byExit.set(exit, [...(byExit.get(exit) ?? []), code]);
  const rows = [...byExit.keys()]
    .sort((a, b) => a - b)
    .map(
      (exit) => `| ${exit} | ${MEANING[exit] ?? ''} | ${(byExit.get(exit) ?? []).map((c) => `\`${c}\``).join(' ')} |`,
    );
  return ['| exit | meaning | error codes |', '| ---- | ------- | ----------- |', '| 0 | success | |', ...rows].join(
    '\n',
  );
}

export const README = join(REPO_ROOT, 'scripts', 'README.md');

/** A markdown table without its alignment padding (the formatter pads cells). */
export function normaliseTable(table: string): string {
  return table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .map((c) => c.trim().replace(/^-+$/, '-'))
        .join('|'),
    )
    .join('\n');
}

/** The table as it stands in scripts/README.md (normalised), or undefined without the markers. */
export function readmeExitCodeTable(text = readFileSync(README, 'utf8')): string | undefined {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  return a < 0 || b < a ? undefined : normaliseTable(text.slice(a + START.length, b));
}

/** `node scripts/dist/cli/exit-codes.js --write` refreshes the README table after codes.ts changes. */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv.includes('--write')) {
  const text = readFileSync(README, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`markers missing in ${README}`);
  writeFileSync(README, `${text.slice(0, a + START.length)}\n\n${exitCodeTable()}\n\n${text.slice(b)}`);
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', README], { stdio: 'inherit' });
}
