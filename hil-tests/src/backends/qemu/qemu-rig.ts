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

/** Under TCG on a shared host the guest stalls for seconds: a 10 s watchdog would reset a healthy box. */
const QEMU_WATCHDOG_MS = 60_000;
/**
 * The hammer's load on the emulated box: long enough that it still writes when a CLI call over
 * SSH (a minute or more under TCG on a shared host) has started it and the log follower attached.
 */
const QEMU_LOAD_MS = 300_000;
/**
 * The ask window on the emulated box: a request must still be pending when the rig's next
 * `elastos requests` over SSH (10-30 s each under TCG on a shared host) looks for it; with 15 s
 * the admin test's approve found nothing pending (measured).
 */
const QEMU_ASK_MS = 90_000;
/** The health sampler's period on the emulated box (the default 5 s is for real hardware). */
const QEMU_HEALTH_MS = 120_000;

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
 * the data partition (/data/hil; the boot partition is root-only), an ask window (and the
 * button's window) of 90 s, a 60 s watchdog and a 120 s health sampler.
 */
async function prepareData(disk: string, dir: string, publisherKey: string): Promise<void> {
  const built = await buildHilCapsules(join(dir, 'capsules'), publisherKey, QEMU_LOAD_MS);
  writeOnData(disk, '/hil', 'hammer.capsule', built.hammer.file);
  writeOnData(disk, '/hil', 'asker.capsule', built.asker.file);
  const config = JSON.parse(readOnData(disk, '/elastos/etc/config.json')) as Record<string, Record<string, unknown>>;
  config.broker = { ...config.broker, askTimeoutMs: QEMU_ASK_MS };
  // The button shows a request for serial.presenceWindowMs (default 30 s), then shows it again
  // with another code: under TCG the rig's calls between reading the code and pressing took
  // longer (measured: the press answered the request under a new code). One window for both.
  config.serial = { ...config.serial, watchdogMs: QEMU_WATCHDOG_MS, presenceWindowMs: QEMU_ASK_MS };
  // systeminformation spawns programs for each sample: every 5 s that is most of an emulated
  // guest's CPU (measured: "health sample took too long", one CLI call over SSH took 3 min).
  config.health = { ...config.health, intervalMs: QEMU_HEALTH_MS };
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

/** True when the story runs; else what the box answered (for the error if it never does). */
async function storyRunning(shell: SshShell): Promise<true | string> {
  const r = await shell.elastos(['--json', 'status']);
  if (r.code !== 0) return `exit ${r.code}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`;
  const rows = (JSON.parse(r.stdout) as { capsules: Array<{ name: string; state: string }> }).capsules;
  const up = ['shell', 'storage', 'photo-editor'].every((n) => rows.some((c) => c.name === n && c.state === 'running'));
  return up || rows.map((c) => `${c.name}:${c.state}`).join(' ');
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
    watchdogMs: QEMU_WATCHDOG_MS,
    slowdown: 5,
    askWindowMs: QEMU_ASK_MS,
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
  let last = '';
  const booted = (which: string, ms: number) =>
    pollFor(
      `the demo capsules on the ${which} boot`,
      async () => {
        const r = await storyRunning(shell);
        if (r === true) return true;
        last = r;
        return undefined;
      },
      ms,
      2000,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (the box's last answer: ${last || 'none'})`);
    });
  let t0 = Date.now();
  await booted('first', rig.box.bootMs);
  rig.say(`first boot: QEMU start to the story running in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await machine.off();
  await addHilRules(disk, dir.path);
  t0 = Date.now();
  await machine.on();
  // The rig is open when the box is up: the suite's first test starts on a running story.
  await booted('second', rig.box.bootMs);
  rig.say(`second boot: QEMU start to the story running in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
