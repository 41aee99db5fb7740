/**
 * The ESP's entry names are the slots' state (runtime/spec/update.md §2); names from a disk are
 * untrusted: anything that is not exactly a slot entry is ignored, never a crash.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { bootedSlot, nextSlot, parseEntry, readSlots } from './slots.js';

describe('update slots from the ESP entries', () => {
  it('parses the boot counting names and nothing else', () => {
    assert.deepEqual(parseEntry('elastos-a.efi'), { slot: 'a' });
    assert.deepEqual(parseEntry('elastos-b+3.efi'), { slot: 'b', left: 3, done: 0 });
    assert.deepEqual(parseEntry('elastos-b+0-3.efi'), { slot: 'b', left: 0, done: 3 });
    for (const bad of ['elastos-c.efi', 'elastos-a+.efi', 'elastos-a+x.efi', 'elastos-a.efi.tmp', 'xelastos-a.efi', ''])
      assert.equal(parseEntry(bad), undefined, bad);
  });

  it('the booted slot comes from rauc.slot= only', () => {
    assert.equal(bootedSlot('root=PARTUUID=x rauc.slot=b ro'), 'b');
    assert.equal(bootedSlot('rauc.slot=bb'), undefined);
    assert.equal(bootedSlot('xrauc.slot=a'), undefined);
  });

  it('states, versions and the next slot as systemd-boot picks it', () => {
    const dir = makeTempDir('slots-');
    try {
      const linux = join(dir.path, 'EFI/Linux');
      mkdirSync(linux, { recursive: true });
      writeFileSync(join(linux, 'elastos-a.efi'), 'MZ IMAGE_VERSION=5\n');
      writeFileSync(join(linux, 'elastos-b+2-1.efi'), 'MZ IMAGE_VERSION=6\n');
      writeFileSync(join(linux, 'notes.txt'), 'IMAGE_VERSION=99');
      const s = readSlots(dir.path, 'rauc.slot=b');
      assert.deepEqual(
        s.map((x) => [x.slot, x.state, x.version, x.triesLeft, x.booted]),
        [
          ['a', 'good', 5, undefined, false],
          ['b', 'trying', 6, 2, true],
        ],
      );
      assert.equal(nextSlot(s), 'b');
      writeFileSync(join(linux, 'elastos-b+2-1.efi'), 'MZ no version\n');
      assert.equal(nextSlot(readSlots(dir.path, 'rauc.slot=a')), 'a');
    } finally {
      dir.remove();
    }
  });
});
