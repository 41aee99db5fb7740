import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreLineCount, readmeCoreLineCount } from './core-size.js';
import { REPO_ROOT } from './workspaces.js';

describe('README', () => {
  it('states the true line count of the trusted core (runtime/src, tests excluded)', () => {
    const stated = readmeCoreLineCount(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
    const actual = coreLineCount(REPO_ROOT);
    assert.equal(stated, actual, `README says ${stated}; runtime/src holds ${actual}: update README.md`);
  });

  it('shows the two commands', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    assert.match(readme, /npm start/);
    assert.match(readme, /npm test/);
  });
});
