import { SimProcess } from '@elastos/firmware-bridge/testing/sim-process';
import type { McuProtocol } from '../../protocols.js';
import type { Rig } from '../../rig.js';

type Line = Record<string, unknown>;

/** The MCU simulator (its own process, on the MCU's end of a pty pair) as the rig's `mcu`. */
export class SimMcu implements McuProtocol {
  readonly sim = new SimProcess();

  constructor(private readonly rig: Rig) {}

  start(port: string): Promise<void> {
    return this.sim.start(port, ['--watchdog-off-ms', '300']);
  }

  /** Lines the simulator printed after `from` (an index into its output). */
  after(from: number, pred: (l: Line) => boolean, ms: number): Promise<Line> {
    const lines = this.sim.lines;
    return this.sim.waitFor((l) => lines.indexOf(l) >= from && pred(l), ms);
  }

  private async command(cmd: Line, ms = 10_000): Promise<Line> {
    const from = this.sim.lines.length;
    this.rig.note(`mcu ${JSON.stringify(cmd)}`);
    this.sim.send(cmd);
    return this.after(from, (l) => (l.event === 'done' || l.event === 'failed') && l.cmd === cmd.cmd, ms);
  }

  async press(ms: number): Promise<void> {
    const r = await this.command({ cmd: 'press', ms });
    if (r.event === 'failed') throw new Error(`the MCU could not report the press: ${String(r.error)}`);
  }

  async holdWatchdog(hold: boolean): Promise<void> {
    this.rig.note(`mcu watchdog ${hold ? 'hold' : 'release'}`);
    this.sim.send({ cmd: 'watchdog', hold });
  }

  async led(): Promise<string> {
    return String((await this.status()).led);
  }

  async ledCode(): Promise<number> {
    return Number((await this.status()).ledCode);
  }

  private async status(): Promise<Line> {
    const from = this.sim.lines.length;
    this.sim.send({ cmd: 'status' });
    return this.after(from, (l) => l.event === 'status', 5000);
  }

  async setRtc(unixMs: number): Promise<void> {
    this.rig.note(`mcu rtc ${new Date(unixMs).toISOString()}`);
    this.sim.send({ cmd: 'rtc', unixMs });
  }

  async watchdogResets(): Promise<number> {
    return this.sim.lines.filter((l) => l.event === 'power' && l.on === true && l.reason === 'watchdog').length;
  }

  stop(): Promise<void> {
    return this.sim.stop();
  }
}
