/**
 * The root slot under dm-verity (verity.ts), without an image build: the filesystem and its hash
 * tree fit the slot, the same tree gives the same root hash (fixed salt and UUID), `veritysetup
 * verify` passes, and fails after one byte of the filesystem changed or after the boot test's
 * in-place tamper of one file (slot-rig.ts). Needs mkfs.ext4 and veritysetup (cryptsetup-bin,
 * installed by scripts/setup); no device-mapper (verify runs in user space).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireFeature } from '@elastos/testkit';
import { rootSlotMib } from './disk.js';
import { flipByte as flipByteAt, TAMPER_MARK, tamperInPlace } from './slot-rig.js';
import { fsBlocksFor, makeRootSlot, treeBlocks, VERITY_SALT, VERITY_UUID, verifyRootSlot } from './verity.js';

const hasVeritysetup = spawnSync('veritysetup', ['--version']).status === 0;

describe('the root slot under dm-verity', function () {
  this.timeout(120_000);
  let dir: string;
  before(function () {
    // CI fails rather than skips: `npm test`'s setup installs cryptsetup-bin.
    requireFeature(this, hasVeritysetup, 'veritysetup (cryptsetup-bin)');
    dir = mkdtempSync(join(tmpdir(), 'verity-'));
    process.env.SOURCE_DATE_EPOCH ??= '1700000000';
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sizes the filesystem so that it and its hash tree fill the slot (whole MiB)', () => {
    assert.equal(treeBlocks(1), 2);
    assert.equal(treeBlocks(128), 2);
    assert.equal(treeBlocks(129), 4); // two leaves, one root, the superblock
    for (const mib of [16, 64, 192, 1024, rootSlotMib(1100), 4096]) {
      const slot = (mib * 1048576) / 4096;
      const fs = fsBlocksFor(mib);
      assert.equal(fs % 256, 0, `${mib} MiB: the filesystem is whole MiB`);
      assert.ok(fs + treeBlocks(fs) <= slot, `${mib} MiB: fs + tree fit`);
      assert.ok(fs + 256 + treeBlocks(fs + 256) > slot, `${mib} MiB: one more MiB would not fit`);
    }
  });

  it('the same tree gives the same root hash; verify passes, and fails after one changed byte', () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'usr/lib/elastos'), { recursive: true });
    writeFileSync(join(tree, 'usr/lib/elastos/index.js'), `export const x = 1;\n${'// padding\n'.repeat(1000)}`);
    const image = join(dir, 'slot.img');
    const v = makeRootSlot(tree, image, 16);
    assert.match(v.rootHash, /^[0-9a-f]{64}$/);
    assert.equal(v.hashOffset, v.dataBlocks * 4096);
    assert.equal(v.hashOffset % 1048576, 0);
    assert.ok(statSync(image).size <= 16 * 1048576);
    assert.deepEqual([v.salt, v.uuid], [VERITY_SALT, VERITY_UUID]);
    const dump = spawnSync('veritysetup', ['dump', `--hash-offset=${v.hashOffset}`, image], { encoding: 'utf8' });
    assert.match(dump.stdout, new RegExp(`UUID:\\s+${VERITY_UUID}`));
    assert.match(dump.stdout, new RegExp(`Salt:\\s+${VERITY_SALT}`));
    // Times in the tree are the build's own: touched again (a later build), the root hash stays.
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(join(tree, 'usr/lib/elastos/index.js'), later, later);
    chmodSync(join(tree, 'usr/lib/elastos'), 0o755); // a new ctime
    assert.equal(makeRootSlot(tree, join(dir, 'again.img'), 16).rootHash, v.rootHash);
    assert.equal(verifyRootSlot(image, v), true);
    assert.equal(verifyRootSlot(image, { ...v, rootHash: 'ab'.repeat(32) }), false);
    flipByteAt(image, 1024 + 100); // inside the ext4 superblock, well inside the filesystem
    assert.equal(verifyRootSlot(image, v), false);
    flipByteAt(image, 1024 + 100);
    assert.equal(verifyRootSlot(image, v), true);
    flipByteAt(image, v.hashOffset - 1); // the last byte the tree covers
    assert.equal(verifyRootSlot(image, v), false);
  });

  it("the boot test's tamper (one block of one file, in place) fails verify, the filesystem still reads", () => {
    const tree = join(dir, 'tree');
    const image = join(dir, 'tampered.img');
    const v = makeRootSlot(tree, image, 16);
    const block = tamperInPlace(image, '/usr/lib/elastos/index.js');
    assert.ok(block > 0 && block < v.dataBlocks);
    assert.equal(verifyRootSlot(image, v), false);
    const fsck = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, `the filesystem is still consistent: ${fsck.stdout}${fsck.stderr}`);
    const cat = spawnSync('debugfs', ['-R', 'cat /usr/lib/elastos/index.js', image], { encoding: 'utf8' });
    assert.equal(cat.stdout.startsWith(TAMPER_MARK), true);
  });
});
