import type { PowerProtocol } from '../../protocols.js';
import type { LocalRuntime } from './local-runtime.js';
import type { SimMcu } from './sim-mcu.js';

/**
 * Power on the local rig is the runtime process. The MCU simulator is the board's power
 * controller: when its watchdog fires it reports the rails off and on again, and this follows
 * (kill -9, then start), as the SoC would lose power and boot.
 */
export class LocalPower implements PowerProtocol {
  readonly cutLosesPageCache = false;
  readonly describeCut =
    'kill -9 of the runtime process: NOT a power cut, the kernel page cache survives it ' +
    '(unsynced writes are not lost); the qemu and board rigs cut real power';
  private seen = 0;
  private readonly timer: NodeJS.Timeout;
  private following: Promise<void> = Promise.resolve();

  constructor(
    private readonly runtime: LocalRuntime,
    private readonly mcu: SimMcu,
  ) {
    this.seen = mcu.sim.lines.length;
    this.timer = setInterval(() => this.followMcu(), 50);
  }

  /** The simulator's `power` events since the last look: the watchdog cut or restored the rails. */
  private followMcu(): void {
    const lines = this.mcu.sim.lines;
    for (; this.seen < lines.length; this.seen++) {
      const l = lines[this.seen];
      if (l?.event !== 'power' || l.reason === 'stopped') continue;
      this.following = this.following.then(() => (l.on ? this.runtime.start() : this.runtime.kill()));
    }
  }

  async on(): Promise<void> {
    await this.following;
    this.runtime.start();
  }

  off(): Promise<void> {
    return this.runtime.stop();
  }

  async cycle(): Promise<void> {
    await this.runtime.stop();
    this.runtime.start();
  }

  cut(): Promise<void> {
    return this.runtime.kill();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
