/**
 * Update bundles with Debian's real RAUC (runtime/spec/update.md §1): a bundle made by
 * makeBundle from a small root image passes `rauc info` against the signer's certificate and
 * carries its version; one byte changed anywhere (payload or signature) and a bundle signed by
 * another key are refused against the box's keyring. The bundle's hook puts the written slot's
 * signed PCR policy and UKI on the ESP.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profile } from './arch.js';
import { BUNDLE_HOOK, bundleInfo, makeBundle, systemConf, updateKey } from './rauc.js';
import { flipByte } from './slot-rig.js';

const p = profile('amd64');

describe('RAUC update bundles (real rauc)', function () {
  this.timeout(120_000);
  let dir: string;
  let bundle: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rauc-bundle-'));
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'etc'), { recursive: true });
    writeFileSync(join(tree, 'etc/os-release'), 'ID=elastos\n');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, join(dir, 'rootfs.ext4'), '8M']);
    for (const s of ['a', 'b']) writeFileSync(join(dir, `uki-${s}.efi`), `MZ fake UKI\nIMAGE_VERSION=7\n`);
    for (const s of ['a', 'b']) writeFileSync(join(dir, `policy-${s}.json`), `{"slot":"${s}"}\n`);
    writeFileSync(join(dir, 'release.json'), '{"format":"elastos-release/1","version":"7"}\n');
    bundle = makeBundle({
      p,
      version: '7',
      rootImage: join(dir, 'rootfs.ext4'),
      ukis: { a: join(dir, 'uki-a.efi'), b: join(dir, 'uki-b.efi') },
      policies: { a: join(dir, 'policy-a.json'), b: join(dir, 'policy-b.json') },
      release: join(dir, 'release.json'),
      key: updateKey(join(dir, 'keys')),
      work: dir,
      out: join(dir, 'update-7.raucb'),
    });
  });

  it('carries the root image, both UKIs and both slots’ signed policies', () => {
    const list = execFileSync('unsquashfs', ['-l', bundle], { encoding: 'utf8' });
    for (const f of ['rootfs.ext4', 'elastos-a.efi', 'elastos-b.efi', 'pcr-policy-a.json', 'pcr-policy-b.json']) {
      assert.ok(list.includes(`squashfs-root/${f}`), f);
    }
  });

  it("the hook puts the written slot's policy and UKI (+0) on the ESP; a bundle without a policy removes the old one", () => {
    const mount = join(dir, 'mnt');
    const esp = join(dir, 'esp');
    mkdirSync(mount, { recursive: true });
    mkdirSync(join(esp, 'EFI/Linux'), { recursive: true });
    writeFileSync(join(mount, 'elastos-b.efi'), 'UKI b\n');
    writeFileSync(join(mount, 'pcr-policy-b.json'), '{"slot":"b","release":"8"}\n');
    writeFileSync(join(esp, 'EFI/Linux/elastos-b+0-3.efi'), 'old UKI b\n');
    const hook = () =>
      spawnSync('sh', [BUNDLE_HOOK, 'slot-post-install'], {
        encoding: 'utf8',
        env: {
          ...process.env,
          ELASTOS_ESP: esp,
          RAUC_SLOT_CLASS: 'rootfs',
          RAUC_SLOT_BOOTNAME: 'b',
          RAUC_BUNDLE_MOUNT_POINT: mount,
        },
      });
    assert.equal(hook().status, 0);
    assert.equal(readFileSync(join(esp, 'elastos/pcr-policy-b.json'), 'utf8'), '{"slot":"b","release":"8"}\n');
    assert.equal(readFileSync(join(esp, 'EFI/Linux/elastos-b+0.efi'), 'utf8'), 'UKI b\n');
    assert.equal(existsSync(join(esp, 'EFI/Linux/elastos-b+0-3.efi')), false);
    rmSync(join(mount, 'pcr-policy-b.json'));
    assert.equal(hook().status, 0);
    assert.equal(existsSync(join(esp, 'elastos/pcr-policy-b.json')), false);
    assert.equal(existsSync(join(esp, 'elastos/pcr-policy-a.json')), false);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the dev key is made once, private key mode 0600', () => {
    const k = updateKey(join(dir, 'keys'));
    assert.equal(statSync(k.key).mode & 0o777, 0o600);
    assert.match(readFileSync(k.cert, 'utf8'), /BEGIN CERTIFICATE/);
  });

  it('a bundle passes rauc info against the signer certificate, with its version and compatible', () => {
    const info = bundleInfo(bundle, updateKey(join(dir, 'keys')).cert);
    assert.equal(info.ok, true, info.out);
    assert.equal(info.version, '7');
    assert.equal(info.compatible, 'elastos-pc2-amd64');
  });

  it('one byte changed in the payload or in the signature is refused', () => {
    const size = statSync(bundle).size;
    // Byte 100 is in the squashfs payload (CMS content verify error), size - 200 in the signature.
    for (const at of [100, size - 200]) {
      const copy = join(dir, `flipped-${at}.raucb`);
      writeFileSync(copy, readFileSync(bundle));
      flipByte(copy, at);
      const info = bundleInfo(copy, updateKey(join(dir, 'keys')).cert);
      assert.equal(info.ok, false, `byte ${at} of ${size} flipped, still accepted`);
      assert.match(info.out, /signature verification failed|verify error|no valid CMS/);
    }
  });

  it('a bundle signed by another key is refused against the box keyring', () => {
    const other = makeBundle({
      p,
      version: '8',
      rootImage: join(dir, 'rootfs.ext4'),
      ukis: { a: join(dir, 'uki-a.efi'), b: join(dir, 'uki-b.efi') },
      release: join(dir, 'release.json'),
      key: updateKey(join(dir, 'other-keys')),
      work: dir,
      out: join(dir, 'other.raucb'),
    });
    const info = bundleInfo(other, updateKey(join(dir, 'keys')).cert);
    assert.equal(info.ok, false);
    assert.match(info.out, /signature|verif|certificate/i);
  });

  it('the box config names both slots, the custom backend and only plain bundles', () => {
    const conf = systemConf(p);
    assert.match(conf, /bootloader=custom/);
    assert.match(conf, /bootloader-custom-backend=\/usr\/lib\/elastos\/rauc-bootloader/);
    assert.match(conf, /device=\/dev\/disk\/by-partlabel\/rootA[\s\S]*bootname=a/);
    assert.match(conf, /device=\/dev\/disk\/by-partlabel\/rootB[\s\S]*bootname=b/);
    assert.match(conf, /bundle-formats=plain/);
  });
});
