/**
 * Boots an image in QEMU (TCG) the way a board boots it, for the boot test and the HIL rig:
 * swtpm as its TPM (state kept in `dir/tpm` across boots), the serial console captured to
 * `dir/console.log`, the MCU simulator on the guest's second UART (a QEMU pty), and SSH on
 * 127.0.0.1:PORT. Every process is ours, by pid: `stop()` ends them (pass or fail), `powerCut()`
 * kills QEMU -9 (the guest's page cache is lost: FACTS.md, a real power cut).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { ElastosError } from '@elastos/runtime';
import type { Arch } from './arch.js';
import { REPO_ROOT } from './workspace-tree.js';

export interface QemuBoxOptions {
  arch: Arch;
  /** The image directory (manifest.json; the disk boots from its own ESP). */
  imageDir: string;
  /** The disk the guest writes (a copy of disk.img; the caller owns it). */
  disk: string;
  /** Run dir: tpm/, console.log, qemu.log, qmp.sock, mcu.log. */
  dir: string;
  sshPort: number;
  memMib?: number;
  smp?: number;
  /** Start the MCU simulator on the second UART (default true). */
  mcu?: boolean;
  /** Let the guest reboot (boot assessment's fallback needs it); by default a reboot ends QEMU. */
  reboot?: boolean;
}

/** UEFI firmware from Debian (ovmf, qemu-efi-aarch64): code read-only, a copy of the variable store per box. */
const FIRMWARE = {
  arm64: { code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/usr/share/AAVMF/AAVMF_VARS.fd' },
  amd64: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * QEMU under TCG now and then hangs at a guest's reset: the console stops at the kernel's
 * "reboot: machine restart" and the firmware never prints again (seen once in a fresh-clone boot
 * test: 18 min of silence, where the firmware's first line normally follows within seconds). A
 * board's reset supervisor would press reset; the rig does the same, once per hang, and says so.
 * The try counters are untouched: systemd-boot counts a try only when it starts an entry.
 */
const RESET_HANG_MS = 120_000;
const RESTART_LINE = /reboot: machine restart\s*$/;

/** Waits for `child` to exit, up to `ms`; true if it did. */
function exited(child: ChildProcess | undefined, ms: number): Promise<boolean> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

/** The report's line for the hung resets the rig pressed reset for, if any. */
export function hungResetNote(): string | undefined {
  const n = QemuBox.hungResets;
  if (n === 0) return undefined;
  return `the rig pressed reset ${n} time(s) for a guest reset that hung before the firmware printed (QEMU TCG; qemu-box.ts)`;
}

export class QemuBox {
  qemu: ChildProcess | undefined;
  swtpm: ChildProcess | undefined;
  mcu: ChildProcess | undefined;
  readonly dir: string;
  readonly console: string;
  readonly mcuLog: string;
  private readonly qmp: string;
  private resetWatch: NodeJS.Timeout | undefined;
  /** How many hung resets the rig pressed reset for (RESET_HANG_MS), over every box of this process. */
  static hungResets = 0;

  constructor(readonly o: QemuBoxOptions) {
    this.dir = resolve(o.dir);
    this.console = join(this.dir, 'console.log');
    this.mcuLog = join(this.dir, 'mcu.log');
    this.qmp = join(this.dir, 'qmp.sock');
  }

  /** The pids of everything this box started (for a rig that must account for them). */
  get pids(): Record<string, number | undefined> {
    return { qemu: this.qemu?.pid, swtpm: this.swtpm?.pid, mcu: this.mcu?.pid };
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'tpm'), { recursive: true });
    rmSync(this.console, { force: true });
    await this.startSwtpm();
    this.startQemu();
    if (this.o.reboot) this.watchResets();
    if (this.o.mcu !== false) await this.startMcu();
  }

  /** Presses reset (QMP) when the guest's console stays silent after a reboot (RESET_HANG_MS). */
  private watchResets(): void {
    let size = -1;
    let since = Date.now();
    let pressedAt = -1;
    clearInterval(this.resetWatch);
    this.resetWatch = setInterval(() => {
      const text = this.consoleText();
      if (text.length !== size) {
        size = text.length;
        since = Date.now();
        return;
      }
      if (pressedAt === size || Date.now() - since < RESET_HANG_MS || !RESTART_LINE.test(text)) return;
      pressedAt = size;
      QemuBox.hungResets++;
      console.error(
        `[qemu-box] the guest's reset hung (no console output for ${RESET_HANG_MS / 1000} s after "machine restart"): pressing reset (QMP system_reset)`,
      );
      this.qmpCommand('system_reset').catch((err: Error) => console.error(`[qemu-box] ${err.message}`));
    }, 5_000);
    this.resetWatch.unref();
  }

  private async startSwtpm(): Promise<void> {
    const tpm = join(this.dir, 'tpm');
    const ctrl = join(tpm, 'ctrl');
    rmSync(ctrl, { force: true });
    const log = openSync(join(this.dir, 'swtpm.log'), 'a');
    // No not-need-init: QEMU initialises the TPM as a board's firmware would (FACTS.md).
    this.swtpm = spawn(
      'swtpm',
      ['socket', '--tpm2', '--tpmstate', `dir=${tpm}`, '--ctrl', `type=unixio,path=${ctrl}`],
      {
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    for (let i = 0; i < 100 && !existsSync(ctrl); i++) await sleep(50);
    if (!existsSync(ctrl)) throw new ElastosError('E_IMAGE_BOOT', `swtpm did not create ${ctrl}`);
  }

  private qemuArgs(): string[] {
    const { arch } = this.o;
    const common = ['-m', String(this.o.memMib ?? 1024), '-smp', String(this.o.smp ?? 2), '-nographic'];
    if (!this.o.reboot) common.push('-no-reboot');
    // UEFI firmware boots the disk's ESP: systemd-boot, then the slot's UKI (no -kernel).
    const fw = FIRMWARE[arch];
    common.push('-drive', `if=pflash,format=raw,readonly=on,file=${fw.code}`);
    common.push('-drive', `if=pflash,format=raw,file=${this.varsFile()}`);
    common.push('-drive', `if=none,id=disk0,format=raw,file=${this.o.disk}`, '-device', 'virtio-blk-pci,drive=disk0');
    common.push(
      '-netdev',
      `user,id=net0,hostfwd=tcp:127.0.0.1:${this.o.sshPort}-:22`,
      '-device',
      'virtio-net-pci,netdev=net0',
    );
    common.push(
      '-chardev',
      `socket,id=chrtpm,path=${join(this.dir, 'tpm', 'ctrl')}`,
      '-tpmdev',
      'emulator,id=tpm0,chardev=chrtpm',
    );
    common.push('-chardev', `file,id=con0,path=${this.console}`, '-chardev', 'pty,id=mcu0');
    common.push('-qmp', `unix:${this.qmp},server=on,wait=off`, '-monitor', 'none');
    if (arch === 'arm64') {
      // gic-version=3: with plain -M virt the cloud kernel never sees its root disk (FACTS.md).
      // UEFI (AAVMF) gives Linux ACPI: the power button (the cloud kernel has no gpio-keys for
      // the device tree's).
      return [
        '-M',
        'virt,gic-version=3',
        '-cpu',
        'max,pauth-impdef=on',
        ...common,
        '-serial',
        'chardev:con0',
        '-device',
        'pci-serial,chardev=mcu0',
        '-device',
        'tpm-tis-device,tpmdev=tpm0',
      ];
    }
    return [
      '-M',
      'q35',
      '-vga',
      'none',
      '-cpu',
      'max',
      ...common,
      '-serial',
      'chardev:con0',
      // OVMF takes COM1 and COM2 as consoles: the MCU's chatter on COM2 reached systemd-boot as a
      // key press (its menu then waits for ever). The MCU is on COM3 (ttyS2), which the firmware
      // does not use; COM2 stays unconnected.
      '-serial',
      'null',
      '-serial',
      'chardev:mcu0',
      '-device',
      'tpm-tis,tpmdev=tpm0',
    ];
  }

  /** The firmware's variable store, one per box (kept across its boots, like a board's flash). */
  private varsFile(): string {
    const vars = join(this.dir, 'efi-vars.fd');
    if (!existsSync(vars)) copyFileSync(FIRMWARE[this.o.arch].vars, vars);
    return vars;
  }

  private startQemu(): void {
    const bin = this.o.arch === 'arm64' ? 'qemu-system-aarch64' : 'qemu-system-x86_64';
    const log = openSync(join(this.dir, 'qemu.log'), 'w');
    this.qemu = spawn(bin, this.qemuArgs(), { stdio: ['ignore', log, log] });
    closeSync(log);
  }

  /** QEMU names the pty of the MCU's UART in its log; the simulator opens it. */
  private async startMcu(): Promise<void> {
    let pty: string | undefined;
    for (let i = 0; i < 200 && !pty; i++) {
      const text = existsSync(join(this.dir, 'qemu.log')) ? readFileSync(join(this.dir, 'qemu.log'), 'utf8') : '';
      pty = /char device redirected to (\/dev\/pts\/\d+) \(label mcu0\)/.exec(text)?.[1];
      if (!pty) await sleep(50);
      if (this.qemu?.exitCode !== null) break;
    }
    if (!pty) throw new ElastosError('E_IMAGE_BOOT', `QEMU gave no pty for the MCU: ${this.qemuLogTail()}`);
    const main = join(REPO_ROOT, 'firmware-bridge', 'dist', 'simulator', 'main.js');
    const out = openSync(this.mcuLog, 'a');
    this.mcu = spawn(process.execPath, [main, '--port', pty], { stdio: ['pipe', out, out] });
    closeSync(out);
  }

  qemuLogTail(): string {
    const f = join(this.dir, 'qemu.log');
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
  }

  consoleText(): string {
    return existsSync(this.console) ? readFileSync(this.console, 'utf8') : '';
  }

  consoleTail(lines = 40): string {
    return this.consoleText().split('\n').slice(-lines).join('\n');
  }

  /** Waits until the console matches `re`; throws E_IMAGE_BOOT with the console's tail after `ms`. */
  async waitForConsole(re: RegExp, ms: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.consoleText());
      if (m) return m;
      if (this.qemu?.exitCode !== null || Date.now() > deadline) {
        const why = this.qemu?.exitCode !== null ? 'QEMU exited' : `not within ${ms / 1000} s`;
        throw new ElastosError(
          'E_IMAGE_BOOT',
          `console never showed ${re} (${why}); last lines:\n${this.consoleTail()}`,
        );
      }
      await sleep(500);
    }
  }

  /** One QMP command (the machine's power button, ...). */
  async qmpCommand(execute: string): Promise<void> {
    await new Promise<void>((res, rej) => {
      const s = createConnection(this.qmp);
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('"QMP"') && !buf.includes('capabilities-sent')) {
          buf += 'capabilities-sent';
          s.write('{"execute":"qmp_capabilities"}\n');
          s.write(`{"execute":"${execute}"}\n`);
        }
        if ((buf.match(/"return"/g) ?? []).length >= 2) {
          s.end();
          res();
        }
      });
      s.on('error', rej);
      setTimeout(() => {
        s.destroy();
        rej(new ElastosError('E_IMAGE_BOOT', `QMP ${execute}: no answer`));
      }, 10_000);
    });
  }

  /** The power button, then wait for the guest to power off (QEMU exits). False if it did not in `ms`. */
  async powerOff(ms: number): Promise<boolean> {
    await this.qmpCommand('system_powerdown');
    return exited(this.qemu, ms);
  }

  /** A power cut: QEMU killed -9 (the guest loses what it had not written). */
  async powerCut(): Promise<void> {
    clearInterval(this.resetWatch);
    this.qemu?.kill('SIGKILL');
    await exited(this.qemu, 10_000);
  }

  /** Stops QEMU, the simulator and swtpm by pid, each with a bound; safe to call twice. */
  async stop(): Promise<void> {
    clearInterval(this.resetWatch);
    for (const child of [this.qemu, this.mcu, this.swtpm]) {
      if (!child) continue;
      child.kill('SIGTERM');
      if (!(await exited(child, 10_000))) {
        child.kill('SIGKILL');
        await exited(child, 5_000);
      }
    }
  }
}
