import type { AuditEvent } from '@elastos/protocol/audit/event';
import { asElastosError, ElastosError, hasCode } from '@elastos/protocol/errors';
import { type BridgeOptions, McuBridge } from '../bridge/bridge.js';
import { LED_CODE_MAX, type McuEvent } from '../protocol/messages.js';
import { SerialPortTransport } from '../transport/serialport-transport.js';
import type { Transport } from '../transport/transport.js';
import type { BoardDeps, BoardLed, BoardService } from './board.js';
import { PresenceGate } from './presence.js';
import { RtcTime, systemClockTrusted } from './system-clock.js';

export interface BoardOptions {
  /** Defaults to the serial device of the config. */
  transport: Transport;
  bridge: Partial<BridgeOptions>;
  /** Defaults to systemClockTrusted(serial.clockSyncMarker). */
  clockTrusted: () => boolean;
  /** Re-read (and, with a trusted system clock, correct) the RTC this often. */
  clockSyncMs: number;
  /** Correct the RTC when it is off by more than this. */
  maxRtcSkewMs: number;
  /** Audit the counts of rejected frames at most this often. */
  reportMs: number;
}

/**
 * The runtime's use of the MCU (firmware-bridge/README.md): kicks the watchdog while the runtime
 * is healthy, shows its state on the LED, keeps wall time from the RTC when the system clock is
 * not trusted, turns long presses into presence approvals, and audits every bridge event.
 */
export class McuBoardService implements BoardService {
  readonly bridge: McuBridge;
  private readonly opts: BoardOptions;
  private readonly gate = new PresenceGate();
  private readonly rtc = new RtcTime();
  private readonly pressListeners = new Set<(press: { at: number; durationMs: number }) => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private led: BoardLed | undefined;
  /** The request the box shows for the button (showRequest), and the code the MCU last took. */
  private requestCode = 0;
  private ledCode: number | undefined;
  /** The MCU's firmware answered LED_CODE with a NAK (an older firmware): tried again after its next HELLO. */
  private ledCodeUnsupported = false;
  private tamper: string | undefined;
  private reportedRejects = 0;
  private lastDown: string | undefined;
  private lastBoot: number | undefined;
  /** Set first thing in stop(): nothing may re-arm the watchdog after the orderly disarm is queued. */
  private stopping = false;
  clockSource: 'system' | 'rtc' | 'none' = 'system';

  constructor(
    private readonly deps: BoardDeps,
    options: Partial<BoardOptions> = {},
  ) {
    this.opts = {
      transport: options.transport ?? new SerialPortTransport(deps.serial.path, deps.serial.baudRate),
      bridge: options.bridge ?? {},
      clockTrusted: options.clockTrusted ?? (() => systemClockTrusted(deps.serial.clockSyncMarker)),
      clockSyncMs: options.clockSyncMs ?? 60_000,
      maxRtcSkewMs: options.maxRtcSkewMs ?? 1000,
      reportMs: options.reportMs ?? 60_000,
    };
    this.bridge = new McuBridge(this.opts.transport, this.opts.bridge);
    this.bridge.on('ready', (id) => {
      this.lastDown = undefined;
      deps.log.info({ ...id }, 'MCU link up');
      this.audit({ type: 'mcu.link.up', details: { ...id } });
      void this.onReady();
    });
    this.bridge.on('down', (err) => this.onDown(err));
    this.bridge.onEvent((ev) => this.onMcuEvent(ev));
  }

  async start(): Promise<void> {
    this.bridge.start();
    const every = (ms: number, fn: () => void) => this.timers.push(setInterval(fn, ms));
    const { watchdogMs } = this.deps.serial;
    every(watchdogMs > 0 ? Math.max(50, Math.floor(watchdogMs / 4)) : 1000, () => this.tick());
    every(this.opts.clockSyncMs, () => {
      this.syncClock().catch((err: unknown) => this.logFailure('clock sync', err));
    });
    every(this.opts.reportMs, () => this.reportRejects());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.gate.clear();
    // An orderly stop disarms the watchdog: a stopped runtime is not a hung one.
    if (this.bridge.state === 'ready' && this.deps.serial.watchdogMs > 0) {
      await this.bridge.disarmWatchdog().catch(() => {});
      this.audit({ type: 'mcu.watchdog.disarm' });
    }
    this.reportRejects();
    await this.bridge.stop();
  }

  status(): Record<string, unknown> {
    return {
      path: this.deps.serial.path,
      identity: this.bridge.identity ?? null,
      led: this.led ?? null,
      ledCode: this.ledCodeUnsupported ? 'unsupported' : (this.ledCode ?? null),
      clockSource: this.clockSource,
      now: new Date(this.now()).toISOString(),
      pendingPresence: this.gate.pending,
      link: this.bridge.stats(),
    };
  }

  onLongPress(listener: (press: { at: number; durationMs: number }) => void): () => void {
    this.pressListeners.add(listener);
    return () => this.pressListeners.delete(listener);
  }

  async confirmPresence(windowMs = this.deps.serial.presenceWindowMs): Promise<boolean> {
    const ok = await this.gate.wait(windowMs, () => this.showState());
    this.audit({ type: 'mcu.presence', decision: ok ? 'allow' : 'deny', details: { windowMs } });
    return ok;
  }

  now(): number {
    if (this.clockSource === 'rtc') return this.rtc.now() ?? Date.now();
    return Date.now();
  }

  showRequest(code: number): void {
    if (!Number.isInteger(code) || code < 0 || code > LED_CODE_MAX)
      throw new ElastosError('E_SERIAL_MESSAGE', `an LED code is 0-${LED_CODE_MAX}, not ${code}`);
    this.requestCode = code;
    this.showState();
  }

  markTamper(reason: string): void {
    this.tamper = reason;
    this.audit({ type: 'mcu.tamper', details: { reason } });
    this.showState();
  }

  private healthy(): boolean {
    return this.deps.healthy?.() ?? true;
  }

  /** Every quarter watchdog period: kick while healthy; an unhealthy runtime lets the MCU reset the board. */
  private tick(): void {
    this.showState();
    if (this.stopping || this.bridge.state !== 'ready' || !this.healthy() || this.deps.serial.watchdogMs === 0) return;
    this.bridge.kickWatchdog().catch((err: unknown) => {
      this.logFailure('watchdog kick', err);
      // NAK bad-state: the MCU lost its watchdog unseen (a lost BOOT, its own reset): arm it again (§5.2).
      if (hasCode(err, 'E_SERIAL_REJECTED') && !this.stopping) void this.onReady();
    });
  }

  private wantedLed(): BoardLed {
    if (this.tamper) return 'tamper';
    if (this.gate.pending > 0 || this.requestCode > 0) return 'attention';
    return this.healthy() ? 'ok' : 'attention';
  }

  private showState(force = false): void {
    if (this.bridge.state !== 'ready') return;
    const want = this.wantedLed();
    if (want !== this.led || force) {
      this.led = want;
      this.bridge.setLed(want).then(
        () => this.audit({ type: 'mcu.led', details: { state: want } }),
        (err: unknown) => {
          this.led = undefined;
          this.logFailure('LED', err);
        },
      );
    }
    this.showCode(force);
  }

  /** The blink count naming the request the button answers (§5.3); none while tamper shows. */
  private showCode(force: boolean): void {
    const code = this.tamper ? 0 : this.requestCode;
    if ((code === this.ledCode && !force) || this.ledCodeUnsupported) return;
    this.ledCode = code;
    this.bridge.setLedCode(code).then(
      () => this.audit({ type: 'mcu.led', details: { code } }),
      (err: unknown) => {
        this.ledCode = undefined;
        // NAK unknown-type: a firmware without LED_CODE; `requests` still names the request.
        if (hasCode(err, 'E_SERIAL_REJECTED')) this.ledCodeUnsupported = true;
        this.logFailure('LED code', err);
      },
    );
  }

  /** After every HELLO and every MCU boot: the MCU forgot its watchdog and LED, so set them again. */
  private async onReady(): Promise<void> {
    const { watchdogMs } = this.deps.serial;
    // The link is FIFO: an arm issued before stop()'s disarm runs before it; one issued after must not be.
    if (this.stopping) return;
    this.ledCodeUnsupported = false;
    try {
      if (watchdogMs > 0) {
        await this.bridge.armWatchdog(watchdogMs);
        this.audit({ type: 'mcu.watchdog.arm', details: { timeoutMs: watchdogMs } });
      }
      this.showState(true);
      await this.syncClock();
    } catch (err) {
      this.logFailure('MCU set-up', err);
    }
  }

  /** Audited on the way down and on each new reason, not on every retry of an absent device. */
  private onDown(err: ElastosError): void {
    this.led = undefined;
    this.ledCode = undefined;
    if (this.lastDown === err.code) return;
    this.lastDown = err.code;
    this.deps.log.warn({ code: err.code }, `MCU link down: ${err.message}`);
    this.audit({ type: 'mcu.link.down', code: err.code, details: { message: err.message } });
  }

  /** Acknowledged to the MCU only after this resolves: the audit record is durable first. */
  private async onMcuEvent(ev: McuEvent): Promise<void> {
    if (ev.type !== 'log')
      this.deps.log[ev.type === 'boot' && ev.reason === 'watchdog' ? 'warn' : 'info']({ ...ev }, 'MCU event');
    if (ev.type === 'boot') {
      if (ev.bootCount === this.lastBoot) return; // re-sent after our HELLO (spec §5.6): recorded once
      await this.auditNow({ type: 'mcu.boot', details: { reason: ev.reason, bootCount: ev.bootCount } });
      this.lastBoot = ev.bootCount;
      if (this.bridge.state === 'ready') void this.onReady();
    } else if (ev.type === 'button') {
      // Recorded before it approves anything: an unrecorded press is not ACKed and comes again,
      // so approving first would let one press approve twice (spec §4.1, §5.5). The flag decides.
      await this.auditNow({ type: 'mcu.button', action: ev.press, details: { durationMs: ev.durationMs } });
      if (ev.press === 'long') this.gate.press();
      if (ev.press === 'long') for (const l of this.pressListeners) l({ at: this.now(), durationMs: ev.durationMs });
      this.showState();
    } else {
      this.deps.log[ev.level === 'debug' ? 'debug' : ev.level]({ mcu: true }, ev.text);
      await this.auditNow({ type: 'mcu.log', details: { level: ev.level, text: ev.text } });
    }
  }

  /** §7: a trusted system clock corrects the RTC; an untrusted one is replaced by the RTC. */
  async syncClock(): Promise<void> {
    if (this.bridge.state !== 'ready') return;
    const reading = await this.bridge.getRtc();
    if (this.opts.clockTrusted()) {
      this.clockSource = 'system';
      const skew = reading.unixMs - Date.now();
      if (!reading.valid || Math.abs(skew) > this.opts.maxRtcSkewMs) {
        await this.bridge.setRtc(Date.now());
        this.audit({ type: 'mcu.clock.rtc-set', details: { skewMs: skew, wasValid: reading.valid } });
      }
    } else if (reading.valid) {
      if (this.clockSource !== 'rtc') this.audit({ type: 'mcu.clock.from-rtc', details: { rtc: reading.unixMs } });
      this.rtc.set(reading.unixMs);
      this.clockSource = 'rtc';
    } else if (this.clockSource !== 'rtc') {
      this.clockSource = 'none';
    }
  }

  private reportRejects(): void {
    const s = this.bridge.stats();
    const total = Object.values(s.rejected).reduce((a, b) => a + b, 0) + s.badEvents;
    if (total === this.reportedRejects) return;
    this.reportedRejects = total;
    this.audit({
      type: 'mcu.frames.rejected',
      code: 'E_SERIAL_FRAME',
      details: { ...s.rejected, badEvents: s.badEvents },
    });
  }

  private auditNow(event: Omit<AuditEvent, 'actor'>): Promise<unknown> {
    return this.deps.audit?.append({ actor: 'mcu', ...event }) ?? Promise.resolve();
  }

  private audit(event: Omit<AuditEvent, 'actor'>): void {
    this.auditNow(event).catch((err: unknown) => this.logFailure('audit', err));
  }

  private logFailure(what: string, err: unknown): void {
    const e = asElastosError(err);
    this.deps.log.warn({ code: e.code }, `${what}: ${e.message}`);
  }
}

/** The board service over the configured serial device (the runtime's `startBoard` calls it). */
export function createBoardService(deps: BoardDeps, options?: Partial<BoardOptions>): McuBoardService {
  return new McuBoardService(deps, options);
}
