/**
 * The image's three file trees, assembled from the stages on every build (copies, seconds):
 * the root (rootfs + Node + runtime + overlay, read-only at run time), the data partition
 * (config, trust store, admin keys, empty state), and the boot partition (kernel, initrd).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addTrustedKey, publicKeyEntry } from '@elastos/runtime';
import type { PublisherKey } from '@elastos/scripts/dist/capsule/publisher-key.js';
import { vacationPhoto } from '@elastos/scripts/dist/demo/demo-photo.js';
import { STORY_RULES } from '@elastos/scripts/dist/demo/story.js';
import { adminKeyLine } from './admin-key.js';
import type { ArchProfile } from './arch.js';
import type { ImageCapsule } from './capsules.js';
import { writeDeviceTimeouts } from './device-timeouts.js';
import { PCR_POLICY_PATH, PCR_SIGNING_PUB_PATH } from './pcr-policy.js';
import { require0, tail } from './rootfs.js';
import { REPO_ROOT } from './workspace-tree.js';

export const OVERLAY = new URL('../overlay/', import.meta.url).pathname;
const BOX_DIST = new URL('./box/', import.meta.url).pathname;

/** The admin account that SSH keys log in as (admin group, restricted wrapper). */
export const ADMIN_USER = 'admin';
export const ADMIN_GROUP = 'elastos-admin';

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  require0(r.status, `${what}: ${tail(`${r.stdout}${r.stderr}`)}`);
}

/**
 * The runtime's config on the box (runtime/src/config/schema.ts). `pcrSigning`: the runtime key is
 * sealed to the release's signed PCR policy (runtime/spec/boot.md §4.1), else to PCR 23 alone.
 */
export function boxConfig(p: ArchProfile, pcrSigning = true): Record<string, unknown> {
  const tpm = {
    tcti: 'device:/dev/tpmrm0',
    pcr: 23,
    ...(pcrSigning ? { pcrSigning: { publicKey: PCR_SIGNING_PUB_PATH, policy: PCR_POLICY_PATH } } : {}),
  };
  return {
    profile: 'production',
    runDir: '/run/elastos',
    stateDir: '/var/lib/elastos',
    trustDir: '/etc/elastos/trust',
    logLevel: 'info',
    tpm,
    admin: { socket: 'admin.sock', group: ADMIN_GROUP },
    // No NTP under QEMU's user network: the clock is trusted past the build floor.
    serial: { path: `/dev/${p.mcuTty}`, clockSyncMarker: '' },
    // One runtime per box, and the unit may write only its own run dir (ProtectSystem=strict).
    confine: { instancesDir: '/run/elastos/instances' },
    // An admin's download lands outside the runtime's private state (runtime/spec/update.md §5).
    update: { inboxDir: '/data/elastos/update-inbox' },
  };
}

/** Copies the overlay, filling the per-arch placeholders of the units; the devices' timeouts. */
export function applyOverlay(root: string, p: ArchProfile): void {
  cpSync(OVERLAY, root, { recursive: true });
  const unit = join(root, 'etc/systemd/system/elastosd.service');
  const text = spawnSync('cat', [unit], { encoding: 'utf8' }).stdout;
  writeFileSync(
    unit,
    text.replaceAll('@MCU_DEVICE_UNIT@', `dev-${p.mcuTty}.device`).replaceAll('@MCU_DEVICE@', `/dev/${p.mcuTty}`),
  );
  writeDeviceTimeouts(root, p);
}

function systemd(root: string): void {
  const units = [
    'elastosd.service',
    'elastos-firstboot.service',
    'elastos-pcr-policy.service',
    'elastos-demo.service',
    'elastos-boot-health.service',
    'systemd-networkd.service',
  ];
  run('systemctl', [`--root=${root}`, 'enable', ...units], 'systemctl enable');
  // apt's timers would try to update a read-only root; e2scrub needs LVM snapshots.
  const mask = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'e2scrub_reap.service'];
  run('systemctl', [`--root=${root}`, 'mask', ...mask], 'systemctl mask');
}

function accounts(root: string): void {
  run('groupadd', ['--root', root, '--system', ADMIN_GROUP], 'groupadd');
  // '*': no password can ever match; keys only (sshd drop-in), no default password.
  run(
    'useradd',
    ['--root', root, '-m', '-s', '/bin/bash', '-G', ADMIN_GROUP, '-p', '*', '-c', 'box administrator', ADMIN_USER],
    'useradd',
  );
}

/** The Node binary only (no headers, docs or npm on the box). */
function installNode(root: string, nodeDir: string): void {
  cpSync(join(nodeDir, 'package', 'bin', 'node'), join(root, 'usr/bin/node'));
  chmodSync(join(root, 'usr/bin/node'), 0o755);
}

function installCommands(root: string): void {
  const lib = join(root, 'usr/lib/elastos');
  symlinkSync('../lib/elastos/node_modules/@elastos/scripts/bin/elastos', join(root, 'usr/bin/elastos'));
  symlinkSync('../lib/elastos/node_modules/@elastos/runtime/bin/elastosd', join(root, 'usr/bin/elastosd'));
  cpSync(join(REPO_ROOT, 'scripts/ssh/elastos-ssh-wrapper'), join(lib, 'elastos-ssh-wrapper'));
  chmodSync(join(lib, 'elastos-ssh-wrapper'), 0o755);
  cpSync(join(REPO_ROOT, 'scripts/ssh/sshd_config.d'), join(root, 'etc/ssh/sshd_config.d'), { recursive: true });
  mkdirSync(join(lib, 'box'), { recursive: true });
  for (const f of readdirSync(BOX_DIST).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'))) {
    cpSync(join(BOX_DIST, f), join(lib, 'box', f));
  }
}

function installDemo(root: string, capsules: ImageCapsule[]): void {
  const share = join(root, 'usr/share/elastos');
  mkdirSync(join(share, 'capsules'), { recursive: true });
  mkdirSync(join(share, 'demo'), { recursive: true });
  capsules.forEach((c, i) => {
    cpSync(c.file, join(share, 'capsules', `${String(i).padStart(2, '0')}-${c.name}-${c.version}.capsule`));
  });
  writeFileSync(join(share, 'demo', 'rules.json'), `${JSON.stringify(STORY_RULES, null, 2)}\n`);
  writeFileSync(join(share, 'demo', 'vacation.jpg'), vacationPhoto());
}

/** Every box makes its own: host keys, machine id (systemd makes a transient one on a read-only root). */
function scrubIdentity(root: string): void {
  for (const f of readdirSync(join(root, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_'))) {
    rmSync(join(root, 'etc/ssh', f));
  }
  writeFileSync(join(root, 'etc/machine-id'), '');
  rmSync(join(root, 'var/lib/dbus/machine-id'), { force: true });
  writeFileSync(join(root, 'etc/hostname'), 'elastos-box\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost\n127.0.1.1 elastos-box\n::1 localhost\n');
}

function mountPoints(root: string): void {
  for (const d of ['data', 'boot/firmware', 'etc/elastos', 'var/lib/elastos']) {
    mkdirSync(join(root, d), { recursive: true });
  }
}

export interface RootInputs {
  rootfs: string;
  node: string;
  runtime: (dest: string) => void;
  capsules: ImageCapsule[];
}

export function assembleRoot(root: string, p: ArchProfile, inputs: RootInputs): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(dirname(root), { recursive: true });
  run('cp', ['-a', '--reflink=auto', join(inputs.rootfs, 'tree'), root], 'copying the rootfs');
  installNode(root, inputs.node);
  inputs.runtime(join(root, 'usr/lib/elastos'));
  installCommands(root);
  installDemo(root, inputs.capsules);
  applyOverlay(root, p);
  accounts(root);
  scrubIdentity(root);
  mountPoints(root);
  systemd(root);
  writeFileSync(join(root, 'etc/fstab'), fstab());
}

/** Partitions by label (the root slot is the kernel's `root=`, so fstab names no slot). */
export function fstab(): string {
  return [
    '# The root (slot A or B) is mounted read-only by the kernel; nothing here names a slot.',
    'PARTLABEL=boot /boot/firmware vfat umask=0077,noatime,nofail 0 0',
    'PARTLABEL=data /data ext4 noatime,nodev,nosuid 0 2',
    '/data/elastos/etc /etc/elastos none bind,x-systemd.requires-mounts-for=/data 0 0',
    '/data/elastos/lib /var/lib/elastos none bind,x-systemd.requires-mounts-for=/data 0 0',
    'tmpfs /tmp tmpfs nosuid,nodev,mode=1777 0 0',
    'tmpfs /var/tmp tmpfs nosuid,nodev,mode=1777 0 0',
    'tmpfs /var/log tmpfs nosuid,nodev,mode=0755 0 0',
    'tmpfs /var/lib/systemd tmpfs nosuid,nodev,mode=0755 0 0',
    'tmpfs /var/lib/private tmpfs nosuid,nodev,mode=0700 0 0',
    'tmpfs /var/cache tmpfs nosuid,nodev,mode=0755 0 0',
    '',
  ].join('\n');
}

/** The data partition: what survives a root slot update (config, trust, admin keys, state). */
export function assembleData(
  data: string,
  p: ArchProfile,
  key: PublisherKey,
  adminKey?: string,
  pcrSigning = true,
): void {
  rmSync(data, { recursive: true, force: true });
  const etc = join(data, 'elastos/etc');
  mkdirSync(join(etc, 'trust'), { recursive: true });
  mkdirSync(join(etc, 'admin-keys'), { recursive: true });
  mkdirSync(join(data, 'elastos/lib'), { recursive: true, mode: 0o700 });
  mkdirSync(join(data, 'ssh'), { recursive: true, mode: 0o700 });
  // RAUC's central status (slot states, installed bundle versions): the root is read-only.
  mkdirSync(join(data, 'rauc'), { recursive: true, mode: 0o700 });
  writeFileSync(join(etc, 'config.json'), `${JSON.stringify(boxConfig(p, pcrSigning), null, 2)}\n`);
  addTrustedKey(join(etc, 'trust'), publicKeyEntry(key.name, Buffer.from(key.publicKey).toString('hex')));
  if (adminKey) writeFileSync(join(etc, 'admin-keys', ADMIN_USER), adminKeyLine(adminKey), { mode: 0o644 });
}
