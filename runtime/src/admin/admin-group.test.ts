import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import fc from 'fast-check';
import { adminGroupPolicy, parseGroupFile, processGroups } from './admin-group.js';

/** Text shaped like group(5): lines of colon-separated fields, digits and junk mixed in. */
const field = fc.oneof(fc.string({ maxLength: 8 }), fc.stringMatching(/^-?\d{1,20}$/));
const groupText = fc
  .array(
    fc.array(field, { maxLength: 6 }).map((f) => f.join(':')),
    { maxLength: 8 },
  )
  .map((lines) => lines.join('\n'));

describe('admin group policy', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => dir.remove());

  it('parses group(5) lines and skips malformed ones', () => {
    const text = 'root:x:0:\nelastos-admin:x:990:alice,bob\nbroken line\nneg:x:-1:\nshort:x:5\n:x:7:\n';
    assert.deepEqual(parseGroupFile(text), [
      { name: 'root', gid: 0, members: [] },
      { name: 'elastos-admin', gid: 990, members: ['alice', 'bob'] },
    ]);
  });

  it('never throws on group-shaped junk and yields only valid gids', () => {
    fc.assert(
      fc.property(groupText, (text) => {
        for (const g of parseGroupFile(text)) assert.ok(Number.isSafeInteger(g.gid) && g.gid >= 0);
      }),
      { numRuns: 200 },
    );
  });

  it('reads the supplementary groups of a live process, and none for a pid now owned by another uid', () => {
    const self = { pid: process.pid, uid: process.geteuid?.() ?? 0, gid: 0 };
    // getgroups(2) plus the egid, which node always adds (the kernel list may not hold it)
    const expected = new Set(process.getgroups?.() ?? []);
    const got = processGroups(self);
    for (const g of got) assert.ok(expected.has(g), `gid ${g}`);
    for (const g of expected) assert.ok(got.includes(g) || g === process.getegid?.(), `gid ${g}`);
    assert.deepEqual(processGroups({ ...self, uid: self.uid + 4242 }), []);
    assert.deepEqual(processGroups({ ...self, pid: 0 }), []);
  });

  it('allows root, the primary gid and supplementary members; refuses others with E_ADMIN_DENIED', () => {
    const groupFile = join(dir.path, 'group');
    writeFileSync(groupFile, 'elastos-admin:x:990:\nusers:x:100:\n');
    const procDir = join(dir.path, 'proc');
    mkdirSync(join(procDir, '4000'), { recursive: true });
    writeFileSync(join(procDir, '4000', 'status'), 'Name:\tx\nUid:\t1001\t1001\t1001\t1001\nGroups:\t100 990 \n');
    mkdirSync(join(procDir, '4001'), { recursive: true });
    writeFileSync(join(procDir, '4001', 'status'), 'Name:\tx\nUid:\t1002\t1002\t1002\t1002\nGroups:\t100\n');
    const allow = adminGroupPolicy({ group: 'elastos-admin', groupFile, procDir });
    allow({ uid: 0, gid: 0, pid: 1 });
    allow({ uid: 1000, gid: 990, pid: 3999 });
    allow({ uid: 1001, gid: 100, pid: 4000 });
    assert.throws(() => allow({ uid: 1002, gid: 100, pid: 4001 }), { code: 'E_ADMIN_DENIED' });
    // pid 4000 has the group, but a peer of another uid cannot borrow it (recycled pid)
    assert.throws(() => allow({ uid: 1002, gid: 100, pid: 4000 }), { code: 'E_ADMIN_DENIED' });
    const missing = adminGroupPolicy({ group: 'no-such-group', groupFile, procDir });
    assert.throws(() => missing({ uid: 1000, gid: 990, pid: 3999 }), /does not exist/);
  });
});
