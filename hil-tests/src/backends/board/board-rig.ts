/**
 * The `board` backend: a real PC2 box on a lab bench, everything from the rig file. The console
 * is the box's serial line (read here through serialport into a log), `elastos` goes over SSH
 * with the restricted admin key, root over the lab's maintenance key, and power and the MCU's
 * test header are the lab's own commands (a relay, a PDU, or `labgrid-client`, see README.md).
 * It has not run against hardware here (there is none): it is written to the same protocols
 * the local and qemu backends pass.
 */
import { exec } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { SerialPortTransport } from '@elastos/firmware-bridge';
import { ElastosError } from '@elastos/protocol/errors';
import { makeTempDir } from '@elastos/testkit';
import { buildHilCapsules } from '../../capsules/build.js';
import type { McuProtocol, PowerProtocol, Run } from '../../protocols.js';
import type { Rig } from '../../rig.js';
import type { BoardSettings, RigFile } from '../../rig-file.js';
import { FileConsole } from '../file-console.js';
import { runBounded, SshShell, sshArgs } from '../ssh-shell.js';

/** A lab command (`sh -c`), bounded; a non-zero exit is an error naming it. */
function labCommand(rig: Rig, cmd: string, env: Record<string, string> = {}): Promise<void> {
  rig.note(`lab: ${cmd}`);
  return new Promise((resolve, reject) => {
    exec(cmd, { timeout: 60_000, env: { ...process.env, ...env } }, (err, _out, stderr) =>
      err ? reject(new Error(`lab command failed (${cmd}): ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}

function boardPower(rig: Rig, s: BoardSettings): PowerProtocol {
  return {
    cutLosesPageCache: true,
    describeCut: `the lab's cut command: ${s.power.cut}`,
    on: () => labCommand(rig, s.power.on),
    off: () => labCommand(rig, s.power.off),
    cut: () => labCommand(rig, s.power.cut),
    cycle: async () => {
      await labCommand(rig, s.power.off);
      await new Promise((r) => setTimeout(r, 2000));
      await labCommand(rig, s.power.on);
    },
  };
}

function boardMcu(rig: Rig, s: BoardSettings, shell: SshShell): McuProtocol {
  const boardStatus = async () => {
    const r = await shell.elastos(['--json', 'board', 'status']);
    if (r.code !== 0) throw new Error(`elastos board status: ${r.stderr}`);
    return JSON.parse(r.stdout) as { led?: string; ledCode?: number | string | null };
  };
  return {
    press: (ms) => labCommand(rig, s.mcu.press, { HIL_PRESS_S: String(ms / 1000) }),
    holdWatchdog: (hold) => labCommand(rig, hold ? s.mcu.holdWatchdog : s.mcu.releaseWatchdog),
    led: async () => String((await boardStatus()).led),
    // What the runtime last had the MCU show (a lab with a camera on the LED can check the blinks).
    ledCode: async () => Number((await boardStatus()).ledCode ?? 0),
    setRtc: async () => {
      throw new ElastosError('E_RIG_PROTOCOL', 'a board rig cannot set the RTC from outside (the runtime does)');
    },
    watchdogResets: async () => {
      const r = await shell.elastos(['--json', 'audit', 'tail', '--lines', '1000']);
      return r.stdout.split('\n').filter((l) => l.includes('"mcu.boot"') && l.includes('"watchdog"')).length;
    },
  };
}

export async function openBoardRig(rig: Rig, file: RigFile & { backend: 'board' }): Promise<void> {
  const s = file.board;
  const dir = makeTempDir('elastos-hil-board-');
  rig.onClose(async () => (process.env.HIL_KEEP ? undefined : dir.remove()));
  const consolePath = join(dir.path, 'console.log');
  const log = createWriteStream(consolePath, { flags: 'a' });
  const serial = new SerialPortTransport(s.console.device, s.console.baudRate);
  serial.onData((chunk) => log.write(chunk));
  await serial.open();
  rig.onClose(async () => {
    await serial.close();
    log.end();
  });
  const root = { ...s.ssh, user: 'root', key: s.ssh.rootKey };
  const rootRun = (argv: string[], ms: number): Promise<Run> =>
    runBounded('ssh', [...sshArgs(root), '--', ...argv], ms);
  const shell = new SshShell(rig, s.ssh, rootRun);
  const built = await buildHilCapsules(join(dir.path, 'capsules'), s.publisherKey);
  const put = async (from: string, to: string) => {
    const r = await runBounded(
      'scp',
      [
        '-i',
        root.key,
        '-P',
        String(root.port),
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${root.knownHosts}`,
        from,
        `root@${root.host}:${to}`,
      ],
      60_000,
    );
    if (r.code !== 0) throw new Error(`scp to the board: ${r.stderr}`);
  };
  await rootRun(['install', '-d', '-m', '0755', '/var/lib/elastos-hil'], 30_000);
  await put(built.hammer.file, '/var/lib/elastos-hil/hammer.capsule');
  await put(built.asker.file, '/var/lib/elastos-hil/asker.capsule');
  rig.register('console', new FileConsole(consolePath));
  rig.register('shell', shell);
  rig.register('power', boardPower(rig, s));
  rig.register('mcu', boardMcu(rig, s, shell));
  rig.box = {
    stateDir: '/var/lib/elastos',
    hilPackages: { hammer: '/var/lib/elastos-hil/hammer.capsule', asker: '/var/lib/elastos-hil/asker.capsule' },
    bootMs: s.bootTimeoutS * 1000,
    powerCuts: s.powerCuts,
    // The board's period is in its own config; the boot time bounds the wait as well.
    watchdogMs: s.bootTimeoutS * 1000,
    slowdown: 2, // an ARM board starts Node in about a second
    askWindowMs: 300_000, // the runtime's default broker.askTimeoutMs (a board's config may say otherwise)
  };
}
