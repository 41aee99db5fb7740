/**
 * RAUC on the box and its update bundles (runtime/spec/update.md, image-build/README.md
 * "Updates"): the vendor's update certificate is the box's keyring (/etc/rauc/keyring.pem on the
 * read-only root), the system config names both root slots and the custom boot loader backend
 * over systemd-boot's entries, and `npm run image -- --bundle` signs a bundle of the root
 * slot (plain format: the signature covers it whole) with the update key (a dev key made in the build dir unless the vendor gives its own).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile } from './arch.js';
import { require0, tail } from './rootfs.js';

export interface UpdateKey {
  cert: string;
  key: string;
}

export const compatible = (p: ArchProfile) => `elastos-pc2-${p.arch}`;

/**
 * The update signing key and certificate: the vendor's (`--update-key`, `--update-cert`), else a
 * dev pair made once in `keysDir` (ECDSA P-256, self-signed, key mode 0600, never committed).
 */
export function updateKey(keysDir: string, vendor?: Partial<UpdateKey>): UpdateKey {
  if (vendor?.cert && vendor.key) return { cert: vendor.cert, key: vendor.key };
  const dev = { cert: join(keysDir, 'update.cert.pem'), key: join(keysDir, 'update.key.pem') };
  if (existsSync(dev.cert) && existsSync(dev.key)) return dev;
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  args.push('-days', '3650', '-subj', '/O=ElastOS development/CN=ElastOS dev update key (not for release)');
  args.push('-keyout', dev.key, '-out', dev.cert);
  const made = spawnSync('openssl', args, { encoding: 'utf8' });
  require0(made.status, `openssl req (dev update key): ${tail(made.stderr)}`);
  chmodSync(dev.key, 0o600);
  return dev;
}

/** /etc/rauc/system.conf: the two root slots by partition label, systemd-boot through the custom backend. */
export function systemConf(p: ArchProfile): string {
  return [
    '# RAUC (image-build/README.md, "Updates"; runtime/spec/update.md). Read-only root: state on /data.',
    '[system]',
    `compatible=${compatible(p)}`,
    'bootloader=custom',
    // plain: the signature covers the whole bundle and is checked before a byte is written (update.md §1).
    'bundle-formats=plain',
    'mountprefix=/run/rauc',
    'data-directory=/data/rauc',
    '',
    '[keyring]',
    'path=/etc/rauc/keyring.pem',
    '',
    '[handlers]',
    'bootloader-custom-backend=/usr/lib/elastos/rauc-bootloader',
    '',
    // raw, not ext4: RAUC writes the slot image (filesystem and dm-verity tree) byte for byte and
    // runs the hook without mounting it; with ext4 it mounted the new slot read-write for the hook,
    // which rewrote the superblock, and the slot then failed dm-verity at its first boot.
    '[slot.rootfs.0]',
    'device=/dev/disk/by-partlabel/rootA',
    'type=raw',
    'bootname=a',
    '',
    '[slot.rootfs.1]',
    'device=/dev/disk/by-partlabel/rootB',
    'type=raw',
    'bootname=b',
    '',
  ].join('\n');
}

export function installRaucConfig(root: string, p: ArchProfile, key: UpdateKey): void {
  mkdirSync(join(root, 'etc/rauc'), { recursive: true });
  writeFileSync(join(root, 'etc/rauc/system.conf'), systemConf(p));
  copyFileSync(key.cert, join(root, 'etc/rauc/keyring.pem'));
}

/**
 * The bundle's manifest: one image for the root slot class (`rootfs.ext4`: the ext4 filesystem and
 * its dm-verity hash tree, written raw to the slot), the hook that installs its UKI and signed policy.
 */
export function bundleManifest(p: ArchProfile, version: string): string {
  return [
    '[update]',
    `compatible=${compatible(p)}`,
    `version=${version}`,
    `description=ElastOS ${version}`,
    '',
    '[bundle]',
    'format=plain',
    '',
    '[hooks]',
    'filename=hook.sh',
    '',
    '[image.rootfs]',
    'filename=rootfs.ext4',
    'hooks=post-install',
    '',
  ].join('\n');
}

export const BUNDLE_HOOK = new URL('../overlay-bundle/hook.sh', import.meta.url).pathname;

export interface BundleInputs {
  p: ArchProfile;
  version: string;
  /** The root slot's filesystem image (disk.sh keeps it as rootfs.ext4). */
  rootImage: string;
  /** Both slots' UKIs (the hook installs the one of the slot written). */
  ukis: Record<'a' | 'b', string>;
  /**
   * Both slots' signed PCR policies (pcr-policy.ts), which the hook installs on the ESP beside the
   * written slot's UKI; absent for a build without a signed policy (the PCR 23 fallback).
   */
  policies?: Record<'a' | 'b', string> | undefined;
  /** The release manifest, carried for `update status` and the version check. */
  release: string;
  key: UpdateKey;
  work: string;
  out: string;
}

/** `rauc bundle`: a signed plain bundle; checked against the signer's certificate right after. */
export function makeBundle(b: BundleInputs): string {
  const dir = join(b.work, 'bundle');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.raucm'), bundleManifest(b.p, b.version));
  const cp = spawnSync('cp', ['--sparse=always', b.rootImage, join(dir, 'rootfs.ext4')]);
  require0(cp.status, `copying ${b.rootImage}`);
  copyFileSync(b.ukis.a, join(dir, 'elastos-a.efi'));
  copyFileSync(b.ukis.b, join(dir, 'elastos-b.efi'));
  if (b.policies) {
    copyFileSync(b.policies.a, join(dir, 'pcr-policy-a.json'));
    copyFileSync(b.policies.b, join(dir, 'pcr-policy-b.json'));
  }
  copyFileSync(b.release, join(dir, 'release.json'));
  copyFileSync(BUNDLE_HOOK, join(dir, 'hook.sh'));
  chmodSync(join(dir, 'hook.sh'), 0o755);
  rmSync(b.out, { force: true });
  const args = ['bundle', `--cert=${b.key.cert}`, `--key=${b.key.key}`, `--keyring=${b.key.cert}`, dir, b.out];
  const r = spawnSync('rauc', args, { encoding: 'utf8' });
  require0(r.status, `rauc bundle: ${tail(`${r.stdout}${r.stderr}`)}`);
  rmSync(dir, { recursive: true, force: true });
  return b.out;
}

export interface BundleInfo {
  ok: boolean;
  version?: string;
  compatible?: string;
  out: string;
}

/** `rauc info` against a keyring: the signature and manifest check RAUC does before it installs. */
export function bundleInfo(bundle: string, keyring: string): BundleInfo {
  const r = spawnSync('rauc', ['info', `--keyring=${keyring}`, '--output-format=json', bundle], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0) return { ok: false, out };
  const j = JSON.parse(r.stdout) as { version?: string; compatible?: string };
  return { ok: true, version: j.version, compatible: j.compatible, out };
}
