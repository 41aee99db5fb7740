/**
 * What the build needs from the machine: root, Debian's apt, the packages below, and for a
 * foreign architecture binfmt_misc with qemu-user-static. Missing packages are installed
 * (root on Debian); anything that cannot be fixed is one coded line (E_IMAGE_PREREQ).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ElastosError } from '@elastos/runtime';
import { type Arch, hostArch } from './arch.js';
import { say } from './stage.js';

/** The build's Debian packages (FACTS.md, "The arm64 image"). */
export const BUILD_PACKAGES = [
  'mmdebstrap',
  'qemu-user-static',
  'binfmt-support',
  'arch-test',
  'e2fsprogs',
  'fdisk',
  'dosfstools',
  'mtools',
  'bmap-tools',
  'zstd',
  'openssh-client',
  // objcopy for the unified kernel images (arm64's stub needs the cross objcopy: FACTS.md).
  'binutils',
  'binutils-aarch64-linux-gnu',
  'systemd',
  // The update bundle (rauc.ts): rauc bundle, mksquashfs, the dev key.
  'rauc',
  'squashfs-tools',
  'openssl',
  // veritysetup format: the root slot's dm-verity hash tree (disk.ts).
  'cryptsetup-bin',
];

/** The boot test's packages on top of the build's. */
export const BOOT_PACKAGES = [
  'qemu-system-arm',
  'qemu-system-x86',
  'qemu-efi-aarch64',
  'ovmf',
  'swtpm',
  'swtpm-tools',
  'tpm2-tools',
  'socat',
];

const fail = (msg: string): never => {
  throw new ElastosError('E_IMAGE_PREREQ', msg);
};

function missingPackages(pkgs: string[]): string[] {
  return pkgs.filter((p) => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format string
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return !(r.stdout ?? '').includes('install ok installed');
  });
}

export interface Host {
  debianMarker: string;
  aptGet: string;
  uid: number | undefined;
}

const THIS_HOST: Host = { debianMarker: '/etc/debian_version', aptGet: '/usr/bin/apt-get', uid: process.getuid?.() };

/** Root on Debian, or E_IMAGE_PREREQ saying what is missing. */
export function checkHost(host: Host = THIS_HOST): void {
  if (!existsSync(host.debianMarker) || !existsSync(host.aptGet)) {
    fail(`not a Debian system (no ${host.debianMarker} or ${host.aptGet}): build on Debian bookworm`);
  }
  if (host.uid !== 0) fail('not root: mmdebstrap, chroot and mkfs need root (run with sudo)');
}

/** Root on Debian, the packages installed (installing what is missing). */
export function ensurePackages(pkgs: string[]): void {
  checkHost();
  const missing = missingPackages(pkgs);
  if (missing.length === 0) return;
  say(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  if (update.status !== 0 || install.status !== 0) fail(`apt-get could not install: ${missing.join(' ')}`);
}

/** binfmt_misc mounted and qemu-user registered, so `chroot ROOTFS` runs foreign code. */
export function ensureBinfmt(arch: Arch): void {
  if (arch === hostArch()) return;
  const dir = '/proc/sys/fs/binfmt_misc';
  if (!existsSync(`${dir}/register`)) {
    const m = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', dir], { encoding: 'utf8' });
    if (m.status !== 0)
      fail(`cannot mount binfmt_misc (${(m.stderr ?? '').trim()}): the kernel needs CONFIG_BINFMT_MISC`);
  }
  const name = arch === 'arm64' ? 'qemu-aarch64' : 'qemu-x86_64';
  spawnSync('update-binfmts', ['--enable', name], { stdio: 'ignore' });
  const entry = `${dir}/${name}`;
  if (!existsSync(entry) || !readFileSync(entry, 'utf8').startsWith('enabled')) {
    fail(`binfmt_misc has no enabled ${name} entry (qemu-user-static): foreign code cannot run`);
  }
  const t = spawnSync('arch-test', [arch], { encoding: 'utf8' });
  if (t.status !== 0) fail(`arch-test: this machine cannot run ${arch} code: ${(t.stdout ?? '').trim()}`);
}
