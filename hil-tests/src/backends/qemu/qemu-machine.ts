import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { PowerProtocol } from '../../protocols.js';
import type { Rig } from '../../rig.js';
import type { SimMcu } from '../local/sim-mcu.js';
import type { QemuBoxClass, QemuBoxLike, QemuBoxOptions } from './qemu-box-api.js';

/**
 * The emulated board: one QemuBox per boot (image-build's module: swtpm state, console log and
 * disk kept in `dir` across boots), the MCU simulator outside it on a stable link to the pty
 * QEMU gives the guest's second UART. Power through QMP (`system_reset`, `quit` + a new start
 * for a cycle) and `kill -9` of QEMU for a cut. The simulator is the power controller: when its
 * watchdog fires, QEMU is killed and started again.
 */
export class QemuMachine implements PowerProtocol {
  readonly cutLosesPageCache = true;
  readonly describeCut = 'kill -9 of QEMU: the guest loses every write it had not synced (a real power cut)';
  private box: QemuBoxLike | undefined;
  private seen = 0;
  private following: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  readonly mcuLink: string;

  constructor(
    private readonly rig: Rig,
    private readonly QemuBox: QemuBoxClass,
    private readonly opts: QemuBoxOptions,
    private readonly mcu: SimMcu,
  ) {
    this.mcuLink = join(opts.dir, 'mcu-uart');
    this.timer = setInterval(() => this.followMcu(), 100);
  }

  get pids(): Array<number | undefined> {
    return Object.values(this.box?.pids ?? {});
  }

  get running(): boolean {
    return this.box?.pids.qemu !== undefined;
  }

  private followMcu(): void {
    const lines = this.mcu.sim.lines;
    for (; this.seen < lines.length; this.seen++) {
      const l = lines[this.seen];
      if (l?.event !== 'power' || l.reason === 'stopped' || l.reason === 'power-on') continue;
      this.following = this.following.then(() => (l.on ? this.on() : this.cut())).catch(() => undefined);
    }
  }

  /** QEMU names the MCU UART's pty in its log; the link follows it (the simulator reopens by itself). */
  private linkMcuPty(): void {
    const log = join(this.opts.dir, 'qemu.log');
    const pty = existsSync(log)
      ? /redirected to (\/dev\/pts\/\d+) \(label mcu0\)/.exec(readFileSync(log, 'utf8'))?.[1]
      : undefined;
    if (!pty) throw new Error(`QEMU gave no pty for the MCU UART: ${this.box?.qemuLogTail() ?? ''}`);
    rmSync(this.mcuLink, { force: true });
    symlinkSync(pty, this.mcuLink);
  }

  async on(): Promise<void> {
    if (this.box) return;
    const box = new this.QemuBox({ ...this.opts, mcu: false });
    this.box = box;
    await box.start();
    this.rig.note(`power on: qemu pid ${box.pids.qemu}, swtpm pid ${box.pids.swtpm}`);
    for (let i = 0; i < 100; i++) {
      try {
        this.linkMcuPty();
        return;
      } catch (err) {
        if (i === 99) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The power button (ACPI), bounded; a guest that does not go down in 3 min is cut. */
  async off(): Promise<void> {
    const box = this.box;
    if (!box) return;
    this.rig.note('power off: QMP system_powerdown');
    if (!(await box.powerOff(180_000))) await box.powerCut();
    await box.stop();
    this.box = undefined;
  }

  /** `quit` through QMP, then a new start (a cycle of the rails). */
  async cycle(): Promise<void> {
    const box = this.box;
    if (box) {
      this.rig.note('power cycle: QMP quit');
      await box.qmpCommand('quit').catch(() => undefined);
      await box.stop();
      this.box = undefined;
    }
    await this.on();
  }

  /**
   * QMP `system_reset`: the reset line. QemuBox runs QEMU with -no-reboot, so QEMU ends on a reset
   * instead of rebooting the guest; the rig then starts it again (the same boot a reset gives).
   */
  async reset(): Promise<void> {
    const box = this.box;
    if (box) {
      this.rig.note('reset: QMP system_reset');
      await box.qmpCommand('system_reset').catch(() => undefined);
      await box.stop();
      this.box = undefined;
    }
    await this.on();
  }

  /** QMP `stop`: the whole guest freezes (no root on the image to SIGSTOP the runtime alone). */
  async freeze(): Promise<void> {
    this.rig.note('hang: QMP stop (the guest freezes)');
    await this.box?.qmpCommand('stop');
  }

  async cut(): Promise<void> {
    const box = this.box;
    if (!box) return;
    this.rig.note(`power cut: kill -9 qemu ${box.pids.qemu}`);
    await box.powerCut();
    await box.stop(); // swtpm, by pid
    this.box = undefined;
  }

  async dispose(): Promise<void> {
    clearInterval(this.timer);
    await this.following;
    await this.box?.stop();
    this.box = undefined;
  }
}
