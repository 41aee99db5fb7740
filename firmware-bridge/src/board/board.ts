/**
 * The board's microcontroller as its user (the runtime) sees it, and what the board service
 * needs from that user. Defined here, on the bridge's side of the line: the runtime imports
 * the bridge like any library and hands it a logger, an audit sink and a health probe that
 * fit these shapes (runtime/src/board wires them).
 */
import type { AuditEvent } from '@elastos/protocol/audit/event';

/** LED states the board shows (spec/protocol.md §5.3). */
export type BoardLed = 'booting' | 'ok' | 'attention' | 'tamper';

/** The serial settings of the runtime's config (`serial`). */
export interface BoardSerialSettings {
  /** The MCU's serial device. */
  path: string;
  baudRate: number;
  /** Hardware watchdog timeout armed on the MCU; 0 never arms it. */
  watchdogMs: number;
  /** The system clock is trusted only when this file exists; '' trusts it past the build floor. */
  clockSyncMarker: string;
  /** Default window in which a long press approves a pending request. */
  presenceWindowMs: number;
}

/** A structured logger (pino's shape). */
export interface BoardLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where bridge events go; `append` resolves once the record is durable (audit.md §5). */
export interface BoardAuditSink {
  append(event: AuditEvent): Promise<unknown>;
}

export interface BoardDeps {
  serial: BoardSerialSettings;
  log: BoardLog;
  audit?: BoardAuditSink;
  /** The runtime is healthy: the watchdog is kicked only while this holds. */
  healthy?: () => boolean;
}

export interface BoardService {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Record<string, unknown>;
  /** Every long press of the front button (physical presence); returns the unsubscribe. */
  onLongPress(listener: (press: { at: number; durationMs: number }) => void): () => void;
  /** True when a long press arrives within `windowMs` (default serial.presenceWindowMs); LED shows attention. */
  confirmPresence(windowMs?: number): Promise<boolean>;
  /** Wall-clock time: the system clock when trusted, else the MCU's RTC (protocol.md §7). */
  now(): number;
  /**
   * Names the pending request the button answers now: the LED shows attention and blinks `code`
   * times per cycle (1-9, spec/protocol.md §5.3 LED_CODE); 0 when none is shown.
   */
  showRequest(code: number): void;
  /** Shows tamper on the LED until the next boot. */
  markTamper(reason: string): void;
}
