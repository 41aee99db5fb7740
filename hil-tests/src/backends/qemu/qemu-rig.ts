/**
 * The `qemu` backend: image-build's image booted by image-build's QemuBox (UEFI, swtpm, console
 * log, SSH on 127.0.0.1:PORT), the MCU simulator on the guest's second UART. Before the first
 * boot the rig drops its admin key and the suite's capsules on the boot partition (the image
 * imports the key at first boot). The image has no root login: hanging the runtime freezes the
 * guest (QMP stop) and tampering changes the disk with the guest off.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ElastosError } from '@elastos/protocol/errors';
import { REPO_ROOT } from '@elastos/scripts/dist/workspaces.js';
import { makeTempDir, pollFor } from '@elastos/testkit';
import { buildHilCapsules } from '../../capsules/build.js';
import type { Rig } from '../../rig.js';
import type { QemuSettings, RigFile } from '../../rig-file.js';
import { FileConsole } from '../file-console.js';
import { HIL_RULES } from '../local/hil-rules.js';
import { SimMcu } from '../local/sim-mcu.js';
import { SshShell } from '../ssh-shell.js';
import { alterCapsuleOffline, putOnBoot, readOnData, writeOnData } from './offline-disk.js';
import { loadQemuBox } from './qemu-box-api.js';
import { QemuMachine } from './qemu-machine.js';

const abs = (p: string) => (isAbsolute(p) ? p : join(REPO_ROOT, p));

function checkImage(s: QemuSettings): void {
  const missing = ['disk.img', 'vmlinuz', 'initrd.img', 'cmdline.txt']
    .map((f) => join(abs(s.imageDir), f))
    .concat(abs(s.publisherKey))
    .filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new ElastosError(
      'E_SETUP_REQUIRED',
      `qemu rig: missing ${missing.join(', ')}: build the image (npm run image:build)`,
    );
  }
}

/**
 * Before the first boot (the config is measured and sealed to then): the suite's capsules on
 * the data partition (/data/hil; the boot partition is root-only), an ask window of 8 s and a
 * 60 s watchdog.
 */
async function prepareData(disk: string, dir: string, publisherKey: string): Promise<void> {
  const built = await buildHilCapsules(join(dir, 'capsules'), publisherKey);
  writeOnData(disk, '/hil', 'hammer.capsule', built.hammer.file);
  writeOnData(disk, '/hil', 'asker.capsule', built.asker.file);
  const config = JSON.parse(readOnData(disk, '/elastos/etc/config.json')) as Record<string, Record<string, unknown>>;
  config.broker = { ...config.broker, askTimeoutMs: 15_000 };
  // Under TCG on a shared host the guest stalls for seconds: a 10 s watchdog resets a healthy box.
  config.serial = { ...config.serial, watchdogMs: 60_000 };
  const local = join(dir, 'config.json');
  writeFileSync(local, JSON.stringify(config, null, 2));
  chmodSync(local, 0o644);
  writeOnData(disk, '/elastos/etc', 'config.json', local);
}

/**
 * After the first boot installed the demo capsules (the shell's rules are seeded then), with the
 * box off: the suite's rules (hammer's load, asker's "ask") before the final deny.
 */
async function addHilRules(disk: string, dir: string): Promise<void> {
  const path = '/elastos/lib/capsules/shell/data';
  const rules = JSON.parse(readOnData(disk, `${path}/rules.json`)) as { rules: unknown[] };
  const mine = HIL_RULES.rules.filter((r) => r.capsule === 'hammer' || r.capsule === 'asker');
  rules.rules.splice(Math.max(0, rules.rules.length - 1), 0, ...mine);
  const local = join(dir, 'rules.json');
  writeFileSync(local, JSON.stringify(rules, null, 2));
  chmodSync(local, 0o644);
  writeOnData(disk, path, 'rules.json', local);
}

async function storyRunning(shell: SshShell): Promise<boolean> {
  const r = await shell.elastos(['--json', 'status']);
  if (r.code !== 0) return false;
  const rows = (JSON.parse(r.stdout) as { capsules: Array<{ name: string; state: string }> }).capsules;
  return ['shell', 'storage', 'photo-editor'].every((n) => rows.some((c) => c.name === n && c.state === 'running'));
}

export async function openQemuRig(rig: Rig, file: RigFile & { backend: 'qemu' }): Promise<void> {
  const s = file.qemu;
  checkImage(s);
  const QemuBox = await loadQemuBox();
  const dir = makeTempDir('elastos-hil-qemu-');
  rig.onClose(async () => (process.env.HIL_KEEP ? undefined : dir.remove()));
  const disk = join(dir.path, 'disk.img');
  execFileSync('cp', ['--sparse=always', join(abs(s.imageDir), 'disk.img'), disk]);
  const key = join(dir.path, 'admin');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hil-rig', '-f', key]);
  putOnBoot(disk, `${key}.pub`, 'elastos-admin.pub');
  await prepareData(disk, dir.path, abs(s.publisherKey));

  const mcu = new SimMcu(rig);
  const machine = new QemuMachine(
    rig,
    QemuBox,
    { arch: s.arch, imageDir: abs(s.imageDir), disk, dir: dir.path, sshPort: s.sshPort },
    mcu,
  );
  rig.onClose(() => machine.dispose());
  rig.trackPids(() => [...machine.pids, mcu.sim.pid]);
  rig.onClose(() => mcu.stop());
  await machine.on();
  await mcu.start(machine.mcuLink);
  rig.box = {
    stateDir: '/var/lib/elastos',
    hilPackages: { hammer: '/data/hil/hammer.capsule', asker: '/data/hil/asker.capsule' },
    bootMs: s.bootTimeoutS * 1000,
    powerCuts: s.powerCuts,
  };
  const target = {
    host: '127.0.0.1',
    port: s.sshPort,
    user: 'admin',
    key,
    knownHosts: join(dir.path, 'known_hosts'),
  };
  const noRoot = async (): Promise<never> => {
    throw new ElastosError('E_RIG_PROTOCOL', 'the qemu rig has no root on the image (PermitRootLogin no)');
  };
  const shell = new SshShell(rig, { ...target, hostKeyChecking: 'accept-new' }, noRoot, 180_000);
  shell.hangRuntime = () => machine.freeze();
  shell.alterCapsule = async (_stateDir, name) => {
    await machine.off();
    // /var/lib/elastos is /data/elastos/lib: the data partition's /elastos/lib (image-build/README.md).
    alterCapsuleOffline(disk, '/elastos/lib', name);
  };
  rig.register('console', new FileConsole(join(dir.path, 'console.log')));
  rig.register('shell', shell);
  rig.register('power', machine);
  rig.register('mcu', mcu);
  rig.register('tpm', { where: join(dir.path, 'tpm') });
  await pollFor(
    'the demo capsules on the first boot',
    async () => ((await storyRunning(shell)) ? true : undefined),
    rig.box.bootMs,
    2000,
  );
  await machine.off();
  await addHilRules(disk, dir.path);
  await machine.on();
}
