import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countsFromJUnit, type TestResult, toJUnit } from './results.js';

describe('HIL results: the counts npm run hil ends with', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-results-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const r = (title: string, state: TestResult['state']): TestResult => ({ title, rig: 'qemu', state, durationMs: 5 });
  const xml = join(dir, 'junit.xml');
  writeFileSync(xml, toJUnit([r('a', 'passed'), r('b', 'failed'), r('c', 'pending')], 'elastos-hil', 'qemu'));

  it('counts passed and failed from the XML; a skip fails only under HIL_MUST_RUN', () => {
    assert.deepEqual(countsFromJUnit(xml, 0, false), { passed: 1, failed: 1 });
    assert.deepEqual(countsFromJUnit(xml, 0, true), { passed: 1, failed: 2 });
  });

  it('a missing XML, or one older than the run, is a failure (never a silent pass)', () => {
    assert.deepEqual(countsFromJUnit(join(dir, 'none.xml'), 0, false), { passed: 0, failed: 1 });
    assert.deepEqual(countsFromJUnit(xml, Date.now() + 60_000, false), { passed: 0, failed: 1 });
  });
});
