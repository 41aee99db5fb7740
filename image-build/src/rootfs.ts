/**
 * Stages "rootfs" (the image's Debian) and "buildroot" (the same Debian plus a compiler, used
 * only to build the native parts for the target; never shipped). Both come from
 * stages/rootfs.sh (mmdebstrap, root mode, qemu-user for a foreign arch).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElastosError } from '@elastos/runtime';
import type { ArchProfile } from './arch.js';
import { hashOf, hashTree, type StageRunner } from './stage.js';

export const MIRROR = 'deb http://deb.debian.org/debian bookworm main';

/** What runs on the box: systemd, sshd, the TPM's and the launcher's libraries, the kernel. */
export function rootfsPackages(p: ArchProfile): string[] {
  return [
    'systemd',
    'systemd-sysv',
    'udev',
    'dbus',
    'openssh-server',
    'tpm2-tools',
    'libtss2-esys-3.0.2-0',
    'libtss2-tctildr0',
    'libtss2-rc0',
    'libtss2-mu0',
    'libtss2-tcti-device0',
    'libseccomp2',
    'libstdc++6',
    'kmod',
    'iproute2',
    'nftables',
    'initramfs-tools',
    'zstd',
    'e2fsprogs',
    // veritysetup: the initramfs opens the root slot under dm-verity (stages/initramfs/verity-*).
    'cryptsetup-bin',
    'netbase',
    // UEFI boot: systemd-boot, its stub and systemd-bless-boot (boot assessment); RAUC installs updates.
    'systemd-boot',
    'systemd-boot-efi',
    'rauc',
    // rauc info reads a plain bundle's manifest with unsquashfs (the runtime's check before install).
    'squashfs-tools',
    p.kernel,
  ];
}

/** The compiler and headers for node-tpm2, peercred and the launcher (runtime/*.gyp, launcher/Makefile). */
export const BUILDROOT_PACKAGES = ['build-essential', 'pkg-config', 'libtss2-dev', 'libseccomp-dev'];

export const STAGES_DIR = new URL('../stages/', import.meta.url).pathname;

function mmdebstrap(arch: string, dir: string, pkgs: string[], log: string): void {
  const r = spawnSync('bash', [join(STAGES_DIR, 'rootfs.sh'), arch, join(dir, 'tree'), MIRROR, ...pkgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  require0(r.status, `${log}: mmdebstrap failed: ${tail(`${r.stdout}${r.stderr}`)}`);
}

export function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export function require0(status: number | null, msg: string): void {
  if (status !== 0) throw new ElastosError('E_IMAGE_BUILD', msg);
}

/** The rootfs depends on its script, the initramfs settings, the arch, mirror and packages. */
function stageKey(arch: string, pkgs: string[]): string {
  const script = readFileSync(join(STAGES_DIR, 'rootfs.sh'));
  return hashOf([arch, MIRROR, ...pkgs, script, hashTree(join(STAGES_DIR, 'initramfs'))]);
}

export async function buildRootfs(stages: StageRunner, p: ArchProfile): Promise<string> {
  const pkgs = rootfsPackages(p);
  return stages.run(`rootfs-${p.arch}`, stageKey(p.arch, pkgs), (dir) => mmdebstrap(p.arch, dir, pkgs, 'rootfs'));
}

/** The rootfs plus BUILDROOT_PACKAGES (apt inside a copy: no second bootstrap under qemu-user). */
export async function buildBuildroot(stages: StageRunner, p: ArchProfile, rootfs: string): Promise<string> {
  const key = hashOf([
    readText(join(rootfs, '.done')),
    ...BUILDROOT_PACKAGES,
    readText(join(STAGES_DIR, 'buildroot.sh')),
  ]);
  return stages.run(`buildroot-${p.arch}`, key, (dir) => {
    const r = spawnSync(
      'bash',
      [join(STAGES_DIR, 'buildroot.sh'), join(rootfs, 'tree'), join(dir, 'tree'), ...BUILDROOT_PACKAGES],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      },
    );
    require0(r.status, `buildroot: ${tail(`${r.stdout}${r.stderr}`)}`);
  });
}

/** `dpkg-query` over a tree: every installed package with its version (for the manifest). */
export function installedPackages(tree: string): Array<{ name: string; version: string; arch: string }> {
  const r = spawnSync(
    'dpkg-query',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format string
    [`--admindir=${join(tree, 'var/lib/dpkg')}`, '-W', '-f=${Package}\t${Version}\t${Architecture}\n'],
    {
      encoding: 'utf8',
    },
  );
  require0(r.status, `dpkg-query failed on ${tree}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    .map(([name = '', version = '', arch = '']) => ({ name, version, arch }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const readText = (p: string) => readFileSync(p, 'utf8');
