import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { CapsuleLogs } from './capsule-logs.js';

describe('capsule logs: one bounded file per capsule', () => {
  const dir = makeTempDir('capsule-logs-');
  after(() => dir.remove());

  it('keeps the last lines, follows from an offset, and escapes control characters', () => {
    const logs = new CapsuleLogs(join(dir.path, 'a'));
    logs.append('notes', 'stdout', 'one');
    logs.append('notes', 'stderr', 'two\u001b[31m\rthree');
    const all = logs.read('notes');
    assert.equal(all.lines.length, 2);
    assert.match(all.lines[0] ?? '', / OUT one$/);
    assert.match(all.lines[1] ?? '', / ERR two\\x1b\[31m\\x0dthree$/);
    logs.append('notes', 'stdout', 'four');
    const more = logs.read('notes', { after: all.next });
    assert.deepEqual(
      more.lines.map((l) => l.slice(25)),
      ['OUT four'],
    );
    assert.deepEqual(logs.read('notes', { lines: 1 }).lines.length, 1);
    assert.deepEqual(logs.read('nobody').lines, []);
  });

  it('rotates once past its bound, so a chatty capsule holds at most twice the bound', () => {
    const logs = new CapsuleLogs(join(dir.path, 'b'), 4096);
    for (let i = 0; i < 1000; i++) logs.append('chatty', 'stdout', `line ${i} ${'x'.repeat(50)}`);
    const path = logs.pathOf('chatty');
    assert.ok(statSync(path).size <= 4096);
    assert.ok(existsSync(`${path}.1`) && statSync(`${path}.1`).size <= 4096);
    assert.match(logs.read('chatty', { lines: 1 }).lines[0] ?? '', /line 999 /);
    assert.equal(logs.read('chatty', { after: 1 << 20 }).rotated, true);
  });

  it('refuses a name that could leave its folder', () => {
    const logs = new CapsuleLogs(join(dir.path, 'c'));
    assert.throws(() => logs.append('../x', 'stdout', 'x'), { code: 'E_USAGE' });
  });
});
