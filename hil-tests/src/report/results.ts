import { existsSync, readFileSync, statSync } from 'node:fs';

/** One test's result on one rig, with what a failure report attaches. */
export interface TestResult {
  title: string;
  rig: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
  consoleTail?: string;
  commands?: string[];
}

const esc = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
// XML 1.0 forbids most control characters, which a console tail may hold.
const clean = (s: string) =>
  [...s].map((c) => (c.charCodeAt(0) < 0x20 && c !== '\n' && c !== '\t' && c !== '\r' ? '?' : c)).join('');

/** JUnit XML (the schema Jenkins, GitLab and LAVA read): one testsuite per rig. */
export function toJUnit(results: TestResult[], suite: string, rig: string): string {
  const failures = results.filter((r) => r.state === 'failed').length;
  const skipped = results.filter((r) => r.state === 'pending').length;
  const time = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((a, r) => a + r.durationMs, 0);
  const cases = results.map((r) => {
    const open = `  <testcase classname="${esc(`${suite}.${rig}`)}" name="${esc(r.title)}" time="${time(r.durationMs)}"`;
    if (r.state === 'pending') return `${open}><skipped/></testcase>`;
    if (r.state === 'passed') return `${open}/>`;
    const body = [
      r.error ?? '',
      '--- console tail ---',
      r.consoleTail ?? '',
      '--- last rig commands ---',
      ...(r.commands ?? []),
    ];
    return `${open}>\n    <failure message="${esc(clean((r.error ?? '').split('\n')[0] ?? ''))}">${esc(clean(body.join('\n')))}</failure>\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(suite)}" tests="${results.length}" failures="${failures}" time="${time(total)}">`,
    `<testsuite name="${esc(`${suite} on ${rig}`)}" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${time(total)}">`,
    ...cases,
    '</testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** One screen: each test with its rig and time; for a failure, its error, console tail and last commands. */
export function summary(results: TestResult[], rig: string, wallMs: number): string {
  const lines = [`HIL suite on rig ${rig}:`];
  for (const r of results) {
    const mark = r.state === 'passed' ? 'ok  ' : r.state === 'failed' ? 'FAIL' : 'skip';
    lines.push(`  ${mark} ${(r.durationMs / 1000).toFixed(1).padStart(6)} s  [${r.rig}] ${r.title}`);
  }
  for (const r of results.filter((x) => x.state === 'failed')) {
    lines.push('', `FAIL ${r.title}: ${(r.error ?? '').split('\n')[0]}`);
    lines.push(
      '  console tail:',
      ...(r.consoleTail ?? '')
        .split('\n')
        .slice(-12)
        .map((l) => `    ${l.slice(0, 160)}`),
    );
    lines.push('  last rig commands:', ...(r.commands ?? []).slice(-8).map((c) => `    ${c}`));
  }
  const passed = results.filter((r) => r.state === 'passed').length;
  const failed = results.filter((r) => r.state === 'failed').length;
  lines.push(`HIL ${rig}: ${passed} passed, ${failed} failed in ${(wallMs / 1000).toFixed(0)} s`);
  return `${lines.join('\n')}\n`;
}

/** The counts of the JUnit XML this run wrote; a missing or older file is one failure. */
export function countsFromJUnit(xml: string, since: number, mustRun: boolean): { passed: number; failed: number } {
  if (!existsSync(xml) || statSync(xml).mtimeMs < since) return { passed: 0, failed: 1 };
  const head = /<testsuite [^>]*tests="(\d+)" failures="(\d+)" skipped="(\d+)"/.exec(readFileSync(xml, 'utf8'));
  if (!head) return { passed: 0, failed: 1 };
  const [tests, failures, skipped] = head.slice(1).map(Number) as [number, number, number];
  // HIL_MUST_RUN=1 (CI): a skipped test is a failed one.
  const skipFails = mustRun ? skipped : 0;
  return { passed: tests - failures - skipped, failed: failures + skipFails };
}
