/**
 * The `qemu` backend: image-build's image booted by image-build's QemuBox (UEFI, swtpm, console
 * log, SSH on 127.0.0.1:PORT), the MCU simulator on the guest's second UART. Before the first
 * boot the rig drops its admin key and the suite's capsules on the boot partition (the image
 * imports the key at first boot). The image has no root login: hanging the runtime freezes the
 * guest (QMP stop) and tampering changes the disk with the guest off.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ElastosError } from '@elastos/runtime';
import { REPO_ROOT } from '@elastos/scripts/dist/workspaces.js';
import { makeTempDir } from '@elastos/testkit';
import { buildHilCapsules } from '../../capsules/build.js';
import { Rig } from '../../rig.js';
import type { QemuSettings, RigFile } from '../../rig-file.js';
import { FileConsole } from '../file-console.js';
import { SimMcu } from '../local/sim-mcu.js';
import { SshShell } from '../ssh-shell.js';
import { alterCapsuleOffline, putOnBoot } from './offline-disk.js';
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

export async function openQemuRig(file: RigFile & { backend: 'qemu' }): Promise<Rig> {
  const s = file.qemu;
  checkImage(s);
  const QemuBox = await loadQemuBox();
  const rig = new Rig(file);
  try {
    const dir = makeTempDir('elastos-hil-qemu-');
    rig.onClose(async () => (process.env.HIL_KEEP ? undefined : dir.remove()));
    const disk = join(dir.path, 'disk.img');
    execFileSync('cp', ['--sparse=always', join(abs(s.imageDir), 'disk.img'), disk]);
    const key = join(dir.path, 'admin');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hil-rig', '-f', key]);
    putOnBoot(disk, `${key}.pub`, 'elastos-admin.pub');
    const built = await buildHilCapsules(join(dir.path, 'capsules'), abs(s.publisherKey));
    putOnBoot(disk, built.hammer.file, 'hil-hammer.capsule');
    putOnBoot(disk, built.asker.file, 'hil-asker.capsule');

    const mcu = new SimMcu(rig);
    const machine = new QemuMachine(
      rig,
      QemuBox,
      { arch: s.arch, imageDir: abs(s.imageDir), disk, dir: dir.path, sshPort: s.sshPort },
      mcu,
    );
    rig.onClose(() => machine.dispose());
    rig.onClose(() => mcu.stop());
    await machine.on();
    await mcu.start(machine.mcuLink);
    const target = {
      host: '127.0.0.1',
      port: s.sshPort,
      user: 'admin',
      key,
      knownHosts: join(dir.path, 'known_hosts'),
    };
    const shell = new SshShell(rig, { ...target, hostKeyChecking: 'accept-new' }, async () => {
      throw new ElastosError('E_RIG_PROTOCOL', 'the qemu rig has no root on the image (PermitRootLogin no)');
    });
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
    rig.box = {
      stateDir: '/var/lib/elastos',
      hilPackages: { hammer: '/boot/firmware/hil-hammer.capsule', asker: '/boot/firmware/hil-asker.capsule' },
      bootMs: s.bootTimeoutS * 1000,
      powerCuts: s.powerCuts,
    };
    return rig;
  } catch (err) {
    await rig.close();
    throw err;
  }
}
