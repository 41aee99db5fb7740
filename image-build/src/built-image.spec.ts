/**
 * Host-side checks of a built image's boot chain (no QEMU), in the image directory
 * `ELASTOS_IMAGE_DIR` (default `.run/image/amd64`): `npm run image:test` runs them right after its
 * build (mocha --forbid-pending: none may skip). Not part of `npm test`, which builds no image
 * (hence `.spec`, not `.test`). The root slot verifies against the manifest's dm-verity root hash and fails
 * after one byte of its filesystem changed; each slot's UKI carries that root hash in its measured
 * `.cmdline`; the initramfs holds veritysetup, dm-verity and the local-top script; the signed
 * policy is on the ESP (one file per slot) and not on the root. (What a bundle carries:
 * rauc.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSignedPolicy, verifySignedPolicy } from '@elastos/runtime/boot/signed-policy';
import { profile } from './arch.js';
import { DEFAULT_OUT, INITRD_VERITY_FILES } from './build.js';
import { kernelCmdline, SLOT_PARTUUID } from './disk.js';
import { espPolicyPath, PCR_SIGNING_PUB_PATH } from './pcr-policy.js';
import { flipByte as flipByteAt } from './slot-rig.js';
import type { BootInfo } from './uki.js';
import { verifyRootSlot } from './verity.js';

const imageDir = process.env.ELASTOS_IMAGE_DIR ?? join(DEFAULT_OUT, 'amd64');
const manifestFile = join(imageDir, 'manifest.json');
const manifest = existsSync(manifestFile)
  ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as { version: string; boot: BootInfo })
  : undefined;

describe('the built image (host-side, after npm run image)', function () {
  this.timeout(600_000);
  let dir: string;
  before(() => {
    assert.ok(manifest?.boot.verity && existsSync(join(imageDir, 'disk.img')), `no verity image built in ${imageDir}`);
    dir = mkdtempSync(join(tmpdir(), 'built-image-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("rootfs.ext4 verifies against the manifest's root hash, and not after one byte of its filesystem changed", () => {
    const v = manifest?.boot.verity;
    assert.ok(v);
    const image = join(imageDir, 'rootfs.ext4');
    assert.equal(verifyRootSlot(image, v), true);
    const copy = join(dir, 'rootfs.ext4');
    copyFileSync(image, copy);
    flipByteAt(copy, Math.floor(v.hashOffset / 2));
    assert.equal(verifyRootSlot(copy, v), false);
    rmSync(copy);
  });

  it("each slot's UKI carries the root hash in its .cmdline, as the manifest says", () => {
    const v = manifest?.boot.verity;
    assert.ok(v);
    for (const s of manifest?.boot.slots ?? []) {
      const out = join(dir, `cmdline-${s.slot}`);
      execFileSync('objcopy', ['-O', 'binary', '--only-section=.cmdline', join(imageDir, 'uki', s.file), out]);
      const cmdline = readFileSync(out, 'utf8').replace(/\0+$/, '');
      assert.equal(cmdline, s.cmdline);
      assert.equal(cmdline, kernelCmdline(profile('amd64'), s.slot, v));
      assert.ok(cmdline.includes(`elastos.verity=PARTUUID=${SLOT_PARTUUID[s.slot]},${v.rootHash},${v.hashOffset}`));
      assert.match(cmdline, /(^| )root=\/dev\/mapper\/elastos-root( |$)/);
    }
  });

  it('the initramfs holds veritysetup, dm-verity.ko and the local-top script', () => {
    const root = join(imageDir, 'work', 'root');
    assert.ok(process.getuid?.() === 0 && existsSync(root), 'needs root (chroot) and the build tree');
    const initrd = readFileSync(join(imageDir, 'initrd.img'));
    const boot = execFileSync('ls', [join(root, 'boot')], { encoding: 'utf8' })
      .split('\n')
      .find((f) => f.startsWith('initrd.img-'));
    assert.ok(boot);
    assert.deepEqual(readFileSync(join(root, 'boot', boot)), initrd, 'the image initrd is the tree one');
    const files = execFileSync('chroot', [root, 'lsinitramfs', `/boot/${boot}`], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    }).split('\n');
    for (const re of INITRD_VERITY_FILES)
      assert.ok(
        files.some((f) => re.test(f)),
        `${re} in the initramfs`,
      );
  });

  it('the signed policy is on the ESP, one file per slot, not on the root; the public key is on the root', () => {
    const esp = `${join(imageDir, 'disk.img')}@@1M`;
    const rootImage = join(imageDir, 'rootfs.ext4');
    const pub = spawnSync('debugfs', ['-R', `cat ${PCR_SIGNING_PUB_PATH}`, rootImage], { encoding: 'utf8' }).stdout;
    assert.match(pub, /BEGIN PUBLIC KEY/);
    const old = spawnSync('debugfs', ['-R', 'stat /usr/lib/elastos/pcr-policy.json', rootImage], { encoding: 'utf8' });
    assert.match(`${old.stdout}${old.stderr}`, /File not found/);
    for (const slot of ['a', 'b'] as const) {
      const text = execFileSync('mtype', ['-i', esp, `::/${espPolicyPath(slot)}`], { encoding: 'utf8' });
      const file = parseSignedPolicy(Buffer.from(text));
      assert.equal(file.release, manifest?.version);
      assert.equal(verifySignedPolicy(file, pub), true);
      const pcr11 = manifest?.boot.slots.find((s) => s.slot === slot)?.pcr11;
      assert.ok(file.policies.some((e) => e.pcrs.find((x) => x.pcr === 11)?.value === pcr11));
    }
  });
});
