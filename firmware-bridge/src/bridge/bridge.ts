import { EventEmitter } from 'node:events';
import { asElastosError, ElastosError, hasCode } from '@elastos/protocol/errors';
import { Link, type LinkStats } from '../link/link.js';
import type { HandlerResult } from '../link/receiver.js';
import type { SenderOptions } from '../link/sender.js';
import {
  type Command,
  decodeEvent,
  decodeIdentity,
  decodeRtc,
  encodeCommand,
  expectEmpty,
  type Identity,
  type LedState,
  type McuEvent,
  PROTOCOL_VERSION,
  type RtcReading,
} from '../protocol/messages.js';
import type { Transport } from '../transport/transport.js';

export interface BridgeOptions extends SenderOptions {
  /** First wait before reopening a lost device; doubles up to reconnectMaxMs. */
  reconnectMs: number;
  reconnectMaxMs: number;
  /** PING an idle link this often: an unplug shows only on a write, a hung MCU only by silence. */
  probeMs: number;
}

export const DEFAULT_BRIDGE_OPTIONS: BridgeOptions = {
  ackTimeoutMs: 200,
  maxAttempts: 5,
  maxQueue: 32,
  reconnectMs: 100,
  reconnectMaxMs: 2000,
  probeMs: 1000,
};

export type BridgeState = 'connecting' | 'ready' | 'stopped';

export interface BridgeEvents {
  ready: [Identity];
  down: [ElastosError];
  event: [McuEvent];
  reject: [ElastosError];
}

/** An event listener; the MCU's event is acknowledged only after every listener has settled (spec §4.2). */
export type EventListener = (ev: McuEvent) => Promise<void> | void;

/**
 * The host's side of the link: opens the transport, says HELLO, reconnects after an unplug,
 * probes an idle link, and turns commands into acknowledged requests. Bad frames and bad events
 * are counted and reported (`reject`), never thrown.
 */
export class McuBridge extends EventEmitter<BridgeEvents> {
  readonly options: BridgeOptions;
  private readonly link: Link;
  private readonly eventListeners: EventListener[] = [];
  private stateValue: BridgeState = 'connecting';
  private identityValue: Identity | undefined;
  private stopped = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastSend = 0;
  reconnects = 0;
  badEvents = 0;

  constructor(
    private readonly transport: Transport,
    options: Partial<BridgeOptions> = {},
  ) {
    super();
    this.options = { ...DEFAULT_BRIDGE_OPTIONS, ...options };
    this.link = new Link(this.options, (type, payload) => this.onMcuData(type, payload));
    this.link.on('reject', (err) => this.emit('reject', err));
    transport.onData((chunk) => this.link.receive(chunk));
    transport.onClose(() => {
      this.link.detach(new ElastosError('E_SERIAL_CLOSED', 'the serial link went down'));
      this.wake?.();
    });
  }

  get state(): BridgeState {
    return this.stateValue;
  }

  get identity(): Identity | undefined {
    return this.identityValue;
  }

  /** Starts the connect loop; resolves at once (see `whenReady`). */
  start(): void {
    this.loop ??= this.connectLoop();
    this.probeTimer = setInterval(() => this.probe(), this.options.probeMs);
    this.probeTimer.unref();
  }

  /** Resolves with the identity once a HELLO succeeded; rejects with E_SERIAL_TIMEOUT after `ms`. */
  whenReady(ms: number): Promise<Identity> {
    if (this.stateValue === 'ready' && this.identityValue) return Promise.resolve(this.identityValue);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(new ElastosError('E_SERIAL_TIMEOUT', `no MCU HELLO within ${ms} ms`));
      }, ms);
      const onReady = (id: Identity) => {
        clearTimeout(timer);
        resolve(id);
      };
      this.once('ready', onReady);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stateValue = 'stopped';
    clearInterval(this.probeTimer);
    this.link.detach(new ElastosError('E_SERIAL_CLOSED', 'the bridge is stopped'));
    await this.transport.close();
    this.wake?.();
    await this.loop;
  }

  /** Every MCU event, acknowledged after the listener settles (a slow listener slows the MCU). */
  onEvent(listener: EventListener): void {
    this.eventListeners.push(listener);
  }

  stats(): LinkStats & { state: BridgeState; reconnects: number; badEvents: number; queued: number } {
    const { stateValue: state, reconnects, badEvents } = this;
    return { ...this.link.stats(), state, reconnects, badEvents, queued: this.link.depth };
  }

  /** HELLO; another `version` only to test an MCU's answer to one it does not speak (§5.1). */
  hello(version = PROTOCOL_VERSION): Promise<Identity> {
    return this.send({ type: 'hello', version }).then(decodeIdentity);
  }
  ping(): Promise<null> {
    return this.send({ type: 'ping' }).then(expectEmpty);
  }
  armWatchdog(timeoutMs: number): Promise<null> {
    return this.send({ type: 'wdt-arm', timeoutMs }).then(expectEmpty);
  }
  kickWatchdog(): Promise<null> {
    return this.send({ type: 'wdt-kick' }).then(expectEmpty);
  }
  disarmWatchdog(): Promise<null> {
    return this.send({ type: 'wdt-disarm' }).then(expectEmpty);
  }
  setLed(state: LedState): Promise<null> {
    return this.send({ type: 'led', state }).then(expectEmpty);
  }
  /** Names the request the button answers by a blink count (1-9); 0 shows none (§5.3). */
  setLedCode(code: number): Promise<null> {
    return this.send({ type: 'led-code', code }).then(expectEmpty);
  }
  getRtc(): Promise<RtcReading> {
    return this.send({ type: 'rtc-get' }).then(decodeRtc);
  }
  setRtc(unixMs: number): Promise<null> {
    return this.send({ type: 'rtc-set', unixMs }).then(expectEmpty);
  }
  powerCycle(offMs: number): Promise<null> {
    return this.send({ type: 'power-cycle', offMs }).then(expectEmpty);
  }

  private send(cmd: Command): Promise<Uint8Array> {
    const { type, payload } = encodeCommand(cmd);
    this.lastSend = performance.now();
    return this.link.request(type, payload);
  }

  private async onMcuData(type: number, payload: Uint8Array): Promise<HandlerResult> {
    let ev: McuEvent;
    try {
      ev = decodeEvent(type, payload);
    } catch (err) {
      this.badEvents++;
      this.emit('reject', asElastosError(err));
      return { nak: (err as Error).message.startsWith('unknown event type') ? 1 : 2 };
    }
    const settled = await Promise.allSettled(this.eventListeners.map(async (l) => l(ev)));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      // Not recorded (e.g. E_AUDIT_WRITE): no ACK, so the MCU sends the event again later.
      this.emit('reject', asElastosError(failed.reason));
      return null;
    }
    this.emit('event', ev);
    return new Uint8Array(0);
  }

  private probe(): void {
    const idle = performance.now() - this.lastSend >= this.options.probeMs;
    if (this.stateValue !== 'ready' || this.link.depth > 0 || !idle) return;
    this.ping().catch((err: unknown) => {
      // Silence from a device that is still open: drop the connection and say HELLO again.
      if (hasCode(err, 'E_SERIAL_TIMEOUT')) void this.transport.close();
    });
  }

  private async connectLoop(): Promise<void> {
    let backoff = this.options.reconnectMs;
    while (!this.stopped) {
      const err = await this.session();
      if (this.stopped) break;
      this.emit('down', err);
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.options.reconnectMaxMs);
      if (this.identityValue) backoff = this.options.reconnectMs;
    }
  }

  /** One connection: open, HELLO, serve until the device goes away; returns why it ended. */
  private async session(): Promise<ElastosError> {
    this.stateValue = 'connecting';
    try {
      await this.transport.open();
    } catch (err) {
      return asElastosError(err);
    }
    if (this.stopped) {
      await this.transport.close();
      return new ElastosError('E_SERIAL_CLOSED', 'the bridge is stopped');
    }
    const closed = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.link.attach((wire) => this.write(wire));
    let why: ElastosError | undefined;
    try {
      const id = await this.hello();
      if (id.version !== PROTOCOL_VERSION) {
        throw new ElastosError('E_SERIAL_VERSION', `MCU speaks v${id.version}, host v${PROTOCOL_VERSION}`);
      }
      this.identityValue = id;
      this.stateValue = 'ready';
      this.emit('ready', id);
      await closed;
    } catch (err) {
      why = asElastosError(err);
    }
    this.link.detach(new ElastosError('E_SERIAL_CLOSED', 'the serial link went down'));
    this.stateValue = this.stopped ? 'stopped' : 'connecting';
    await this.transport.close();
    if (!this.stopped) this.reconnects++;
    return why ?? new ElastosError('E_SERIAL_CLOSED', `${this.describe()} closed`);
  }

  private write(wire: Uint8Array): Promise<void> {
    return this.transport.write(wire).catch((err: unknown) => {
      void this.transport.close();
      throw err;
    });
  }

  private describe(): string {
    return (this.transport as { path?: string }).path ?? 'serial device';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
