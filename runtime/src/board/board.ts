import type { AuditSink } from '../audit/audit-sink.js';
import type { ElastosConfig } from '../config/index.js';
import { ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';

/** LED states the board shows (firmware-bridge/spec/protocol.md §5.3). */
export type BoardLed = 'booting' | 'ok' | 'attention' | 'tamper';

/**
 * The board's microcontroller as the daemon sees it. Defined here, implemented by
 * `@elastos/firmware-bridge/board` and loaded only when `serial.path` is set, so the runtime
 * never depends on the bridge at build time (no cycle: the bridge depends on the runtime).
 */
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
  /** Shows tamper on the LED until the next boot. */
  markTamper(reason: string): void;
}

export interface BoardDeps {
  serial: ElastosConfig['serial'];
  log: Logger;
  audit?: AuditSink;
  /** The runtime is healthy: the watchdog is kicked only while this holds. */
  healthy?: () => boolean;
}

/** Loads the board module named by `specifier` and starts it; E_SETUP_REQUIRED when it is not installed. */
export async function startBoard(deps: BoardDeps, specifier = '@elastos/firmware-bridge/board'): Promise<BoardService> {
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (err) {
    throw new ElastosError('E_SETUP_REQUIRED', `serial.path is set but ${specifier} does not load`, { cause: err });
  }
  const create = (mod as { createBoardService?: unknown }).createBoardService;
  if (typeof create !== 'function')
    throw new ElastosError('E_SETUP_REQUIRED', `${specifier} has no createBoardService`);
  const board = (create as (deps: BoardDeps) => BoardService)(deps);
  await board.start();
  return board;
}
