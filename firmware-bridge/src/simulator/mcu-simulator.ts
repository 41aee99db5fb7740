import { EventEmitter } from 'node:events';
import { ElastosError } from '@elastos/protocol/errors';
import { Link } from '../link/link.js';
import type { HandlerResult } from '../link/receiver.js';
import {
  type BootReason,
  type Command,
  decodeCommand,
  encodeEvent,
  encodeIdentity,
  encodeRtc,
  type LedState,
  type McuEvent,
  PROTOCOL_VERSION,
} from '../protocol/messages.js';
import type { Transport } from '../transport/transport.js';
import { SimClock } from './sim-clock.js';

export interface SimulatorOptions {
  serial: string;
  firmware: string;
  /** The protocol version the simulated firmware answers HELLO with (tests of E_SERIAL_VERSION). */
  version: number;
  /** Clock drift in parts per million (a cheap crystal: tens of ppm). */
  driftPpm: number;
  /** Start with an invalid RTC, as after a dead backup battery. */
  rtcInvalid: boolean;
  /** How long the board stays off after the watchdog fires. */
  watchdogOffMs: number;
  /** A press this long or longer is a long press (spec §5.5). */
  longPressMs: number;
  ackTimeoutMs: number;
  maxAttempts: number;
  /** How often to try reopening a vanished device (a pty whose socat died). */
  reopenMs: number;
  /** Keep the last handled frame across an MCU reset (spec §4.3); false only to show why it must. */
  retainLastHandled: boolean;
}

export const DEFAULT_SIMULATOR_OPTIONS: SimulatorOptions = {
  serial: 'SIM-0001',
  firmware: 'sim-1.0.0',
  version: PROTOCOL_VERSION,
  driftPpm: 0,
  rtcInvalid: false,
  watchdogOffMs: 200,
  longPressMs: 2000,
  ackTimeoutMs: 100,
  maxAttempts: 20,
  reopenMs: 50,
  retainLastHandled: true,
};

export interface SimulatorEvents {
  /** A command the simulated firmware executed (once per acknowledged command). */
  exec: [Command];
  power: [{ on: boolean; reason: BootReason | 'watchdog-fired' | 'power-cycle' | 'stopped' }];
  led: [LedState];
  'led-code': [number];
}

/**
 * The board's microcontroller, simulated: it speaks spec/protocol.md through the same Link as the
 * host, keeps a watchdog that cuts "power" when not kicked, a button, a drifting RTC and power
 * rails that can be cycled. Faults are injected by wrapping its transport in a FaultyTransport.
 */
export class McuSimulator extends EventEmitter<SimulatorEvents> {
  readonly options: SimulatorOptions;
  readonly clock: SimClock;
  private link: Link;
  powered = false;
  bootCount = 0;
  led: LedState = 'booting';
  /** The blink count naming the request shown (§5.3 LED_CODE); 0: none. A reset forgets it. */
  ledCode = 0;
  watchdog: { armed: boolean; timeoutMs: number } = { armed: false, timeoutMs: 0 };
  private wdtTimer: NodeJS.Timeout | undefined;
  private powerTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The BOOT event until the host acknowledged it (spec §5.6: re-sent after the next HELLO). */
  private pendingBoot: McuEvent | undefined;
  private bootTry = 0;
  private bootSending = false;
  /** A send was asked for (a HELLO) while the BOOT was being sent: if that send fails, send again (§5.6). */
  private bootAgain = false;
  /** The rig holds the watchdog: it does not fire (a lab debugging a stopped runtime). */
  watchdogHeld = false;
  private staleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: Transport,
    options: Partial<SimulatorOptions> = {},
  ) {
    super();
    this.options = { ...DEFAULT_SIMULATOR_OPTIONS, ...options };
    this.clock = new SimClock(this.options.driftPpm, !this.options.rtcInvalid);
    this.link = this.newLink();
    transport.onData((chunk) => {
      if (this.powered) this.link.receive(chunk);
    });
    transport.onClose(() => void this.reopen());
  }

  /** Opens the device and powers on. */
  async start(): Promise<void> {
    await this.transport.open();
    this.powerOn('power-on');
    this.staleTimer = setInterval(() => {
      if (this.transport.stale?.()) void this.transport.close();
    }, this.options.reopenMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.staleTimer);
    this.powerOff('stopped');
    clearTimeout(this.powerTimer);
    await this.transport.close();
  }

  /**
   * A press of the front button lasting `durationMs` (reported on release, spec §5.5); `kind`
   * overrides the firmware's own threshold (a flag that disagrees with the duration).
   */
  press(durationMs: number, kind?: 'short' | 'long'): Promise<void> {
    const press = kind ?? (durationMs >= this.options.longPressMs ? 'long' : 'short');
    return this.sendEvent({ type: 'button', press, durationMs: Math.min(durationMs, 0xffff) });
  }

  /** Sends an event's raw payload, as a vendor's firmware might (e.g. LOG text that is not UTF-8). */
  async sendRaw(type: number, payload: Uint8Array): Promise<void> {
    if (!this.powered) throw new ElastosError('E_SERIAL_CLOSED', 'the board is off');
    await this.link.request(type, payload);
  }

  /**
   * The MCU's own reset (brown-out, firmware fault): a new link session (random seq, SYN), the
   * watchdog forgotten, a BOOT event; the last handled frame survives it (spec §4.3).
   */
  restartMcu(): void {
    const last = this.link.lastHandled;
    this.link.detach(new ElastosError('E_SERIAL_CLOSED', 'the MCU reset'));
    this.link = this.newLink();
    if (this.options.retainLastHandled) this.link.lastHandled = last;
    clearTimeout(this.wdtTimer);
    this.powered = false;
    this.powerOn('power-on');
  }

  /** The watchdog state lost without a BOOT reaching the host (as when that BOOT ran out of attempts). */
  forgetWatchdog(): void {
    clearTimeout(this.wdtTimer);
    this.watchdog = { armed: false, timeoutMs: 0 };
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', text: string): Promise<void> {
    return this.sendEvent({ type: 'log', level, text });
  }

  /** Cuts the rails for `offMs`, then boots with `reason`. */
  powerCycle(offMs: number, reason: BootReason = 'power-cycle'): void {
    this.powerOff(reason === 'watchdog' ? 'watchdog-fired' : 'power-cycle');
    this.powerTimer = setTimeout(() => this.powerOn(reason), offMs);
  }

  stats(): ReturnType<Link['stats']> {
    return this.link.stats();
  }

  private async sendEvent(ev: McuEvent): Promise<void> {
    if (!this.powered) throw new ElastosError('E_SERIAL_CLOSED', 'the board is off');
    const { type, payload } = encodeEvent(ev);
    await this.link.request(type, payload);
  }

  private powerOn(reason: BootReason): void {
    if (this.stopped) return;
    this.powered = true;
    this.bootCount++;
    this.led = 'booting';
    this.ledCode = 0;
    this.watchdog = { armed: false, timeoutMs: 0 };
    if (this.transport.isOpen) this.attach();
    this.emit('power', { on: true, reason });
    this.pendingBoot = { type: 'boot', reason, bootCount: this.bootCount };
    this.bootSending = false;
    this.bootAgain = false;
    this.sendBoot();
  }

  private powerOff(reason: SimulatorEvents['power'][0]['reason']): void {
    const wasOn = this.powered;
    this.powered = false;
    clearTimeout(this.wdtTimer);
    this.link.detach(new ElastosError('E_SERIAL_CLOSED', 'the board is off'));
    if (wasOn) this.emit('power', { on: false, reason });
  }

  /** Sends the pending BOOT once at a time; it stays pending when it runs out of attempts (§5.6). */
  private sendBoot(): void {
    const ev = this.pendingBoot;
    if (!ev) return;
    if (this.bootSending) {
      this.bootAgain = true;
      return;
    }
    this.bootSending = true;
    const attempt = ++this.bootTry;
    this.sendEvent(ev)
      .then(() => {
        if (this.pendingBoot === ev) this.pendingBoot = undefined;
      })
      .catch(() => {})
      .finally(() => {
        if (attempt !== this.bootTry) return;
        this.bootSending = false;
        if (this.bootAgain && this.pendingBoot) {
          this.bootAgain = false;
          setTimeout(() => this.sendBoot(), 5);
        }
      });
  }

  private newLink(): Link {
    return new Link({ ...this.options, maxQueue: 64 }, (type, payload) => this.onCommand(type, payload));
  }

  private attach(): void {
    this.link.attach((wire) => this.transport.write(wire));
  }

  private async reopen(): Promise<void> {
    this.link.detach(new ElastosError('E_SERIAL_CLOSED', 'the device went away'));
    while (!this.stopped && !this.transport.isOpen) {
      await new Promise((r) => setTimeout(r, this.options.reopenMs));
      if (this.stopped) return;
      try {
        await this.transport.open();
      } catch {
        // Not back yet: keep trying, as a UART would simply keep listening.
      }
    }
    if (this.powered && !this.stopped) this.attach();
  }

  private onCommand(type: number, payload: Uint8Array): HandlerResult {
    let cmd: Command;
    try {
      cmd = decodeCommand(type, payload);
    } catch (err) {
      return { nak: (err as Error).message.startsWith('unknown command') ? 1 : 2 };
    }
    const result = this.execute(cmd);
    if (!(result instanceof Uint8Array)) return result;
    this.emit('exec', cmd);
    return result;
  }

  private execute(cmd: Command): HandlerResult {
    const ok = new Uint8Array(0);
    switch (cmd.type) {
      case 'hello': {
        const { serial, firmware, version } = this.options;
        // A BOOT nobody acknowledged (the SoC was still booting) goes out after this HELLO's ACK.
        if (this.pendingBoot) setTimeout(() => this.sendBoot(), 5);
        return encodeIdentity({ version, serial, firmware, bootCount: this.bootCount });
      }
      case 'ping':
        return ok;
      case 'wdt-arm':
        this.watchdog = { armed: true, timeoutMs: cmd.timeoutMs };
        return this.kick(ok);
      case 'wdt-kick':
        return this.watchdog.armed ? this.kick(ok) : { nak: 3 };
      case 'wdt-disarm':
        clearTimeout(this.wdtTimer);
        this.watchdog = { armed: false, timeoutMs: 0 };
        return ok;
      case 'led':
        this.led = cmd.state;
        this.emit('led', cmd.state);
        return ok;
      case 'led-code':
        this.ledCode = cmd.code;
        this.emit('led-code', cmd.code);
        return ok;
      case 'rtc-get':
        return encodeRtc(this.clock.read());
      case 'rtc-set':
        this.clock.set(cmd.unixMs);
        return ok;
      case 'power-cycle':
        // Answer first, then cut the rails: the ACK must leave before the power does.
        setTimeout(() => this.powerCycle(cmd.offMs), 5);
        return ok;
    }
  }

  private fireWatchdog(): void {
    if (this.watchdogHeld) {
      this.wdtTimer = setTimeout(() => this.fireWatchdog(), this.watchdog.timeoutMs);
      return;
    }
    this.powerCycle(this.options.watchdogOffMs, 'watchdog');
  }

  private kick(ok: Uint8Array): Uint8Array {
    clearTimeout(this.wdtTimer);
    this.wdtTimer = setTimeout(() => this.fireWatchdog(), this.watchdog.timeoutMs);
    return ok;
  }
}
