import { ElastosError } from '@elastos/protocol/errors';
import { PayloadReader, PayloadWriter } from './bytes.js';

/** Protocol version carried by HELLO (spec/protocol.md §5.1). */
export const PROTOCOL_VERSION = 1;

/** Message type codes (§5). 0x01-0x7f: host commands; 0x80-0xfe: MCU events; 0xff: NAK. */
export const MSG = {
  HELLO: 0x01,
  PING: 0x02,
  WDT_ARM: 0x10,
  WDT_KICK: 0x11,
  WDT_DISARM: 0x12,
  LED_SET: 0x20,
  LED_CODE: 0x21,
  RTC_GET: 0x30,
  RTC_SET: 0x31,
  POWER_CYCLE: 0x40,
  EV_BOOT: 0x80,
  EV_BUTTON: 0x81,
  EV_LOG: 0x82,
  NAK: 0xff,
} as const;

export const LED_STATES = ['booting', 'ok', 'attention', 'tamper'] as const;
export type LedState = (typeof LED_STATES)[number];
/** LED_CODE (§5.3): 0 shows no code; 1-9 blinks that many times per cycle, naming the request shown. */
export const LED_CODE_MAX = 9;
export const BOOT_REASONS = ['power-on', 'watchdog', 'power-cycle'] as const;
export type BootReason = (typeof BOOT_REASONS)[number];
export const PRESS_KINDS = ['short', 'long'] as const;
export type PressKind = (typeof PRESS_KINDS)[number];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type McuLogLevel = (typeof LOG_LEVELS)[number];
/** NAK reasons (§4.2). */
export const NAK_REASONS = ['?', 'unknown-type', 'bad-payload', 'bad-state'] as const;

/** Watchdog timeout bounds (§5.2). */
export const WDT_MIN_MS = 100;
export const WDT_MAX_MS = 600_000;

export type Command =
  | { type: 'hello'; version: number }
  | { type: 'ping' }
  | { type: 'wdt-arm'; timeoutMs: number }
  | { type: 'wdt-kick' }
  | { type: 'wdt-disarm' }
  | { type: 'led'; state: LedState }
  | { type: 'led-code'; code: number }
  | { type: 'rtc-get' }
  | { type: 'rtc-set'; unixMs: number }
  | { type: 'power-cycle'; offMs: number };

export type McuEvent =
  | { type: 'boot'; reason: BootReason; bootCount: number }
  | { type: 'button'; press: PressKind; durationMs: number }
  | { type: 'log'; level: McuLogLevel; text: string };

/** The MCU's answer to HELLO (§5.1). */
export interface Identity {
  version: number;
  serial: string;
  firmware: string;
  bootCount: number;
}

/** The MCU's answer to RTC_GET (§5.3): `valid` is false after the backup battery failed. */
export interface RtcReading {
  unixMs: number;
  valid: boolean;
}

export interface Encoded {
  type: number;
  payload: Uint8Array;
}

const empty = new Uint8Array(0);

function pick<T>(table: readonly T[], index: number, what: string): T {
  const v = table[index];
  if (v === undefined) throw new ElastosError('E_SERIAL_MESSAGE', `unknown ${what} ${index}`);
  return v;
}

function index<T>(table: readonly T[], v: T): number {
  return table.indexOf(v);
}

export function encodeCommand(cmd: Command): Encoded {
  const w = new PayloadWriter();
  switch (cmd.type) {
    case 'hello':
      return { type: MSG.HELLO, payload: w.u8(cmd.version).bytes() };
    case 'ping':
      return { type: MSG.PING, payload: empty };
    case 'wdt-arm':
      return { type: MSG.WDT_ARM, payload: w.u32(cmd.timeoutMs).bytes() };
    case 'wdt-kick':
      return { type: MSG.WDT_KICK, payload: empty };
    case 'wdt-disarm':
      return { type: MSG.WDT_DISARM, payload: empty };
    case 'led':
      return { type: MSG.LED_SET, payload: w.u8(index(LED_STATES, cmd.state)).bytes() };
    case 'led-code':
      return { type: MSG.LED_CODE, payload: w.u8(cmd.code).bytes() };
    case 'rtc-get':
      return { type: MSG.RTC_GET, payload: empty };
    case 'rtc-set':
      return { type: MSG.RTC_SET, payload: w.u64(cmd.unixMs).bytes() };
    case 'power-cycle':
      return { type: MSG.POWER_CYCLE, payload: w.u16(cmd.offMs).bytes() };
  }
}

/** MCU side: parses a host command. Untrusted: E_SERIAL_MESSAGE on anything malformed. */
export function decodeCommand(type: number, payload: Uint8Array): Command {
  const r = new PayloadReader(payload);
  const cmd = decodeCommandBody(type, r);
  r.end();
  return cmd;
}

function decodeCommandBody(type: number, r: PayloadReader): Command {
  switch (type) {
    case MSG.HELLO:
      return { type: 'hello', version: r.u8() };
    case MSG.PING:
      return { type: 'ping' };
    case MSG.WDT_ARM: {
      const timeoutMs = r.u32();
      if (timeoutMs < WDT_MIN_MS || timeoutMs > WDT_MAX_MS) throw new ElastosError('E_SERIAL_MESSAGE', 'wdt range');
      return { type: 'wdt-arm', timeoutMs };
    }
    case MSG.WDT_KICK:
      return { type: 'wdt-kick' };
    case MSG.WDT_DISARM:
      return { type: 'wdt-disarm' };
    case MSG.LED_SET:
      return { type: 'led', state: pick(LED_STATES, r.u8(), 'LED state') };
    case MSG.LED_CODE: {
      const code = r.u8();
      if (code > LED_CODE_MAX) throw new ElastosError('E_SERIAL_MESSAGE', `LED code ${code} is over ${LED_CODE_MAX}`);
      return { type: 'led-code', code };
    }
    case MSG.RTC_GET:
      return { type: 'rtc-get' };
    case MSG.RTC_SET:
      return { type: 'rtc-set', unixMs: r.u64() };
    case MSG.POWER_CYCLE:
      return { type: 'power-cycle', offMs: r.u16() };
    default:
      throw new ElastosError('E_SERIAL_MESSAGE', `unknown command type 0x${type.toString(16)}`);
  }
}

export function encodeEvent(ev: McuEvent): Encoded {
  const w = new PayloadWriter();
  switch (ev.type) {
    case 'boot':
      return { type: MSG.EV_BOOT, payload: w.u8(index(BOOT_REASONS, ev.reason)).u32(ev.bootCount).bytes() };
    case 'button':
      return { type: MSG.EV_BUTTON, payload: w.u8(index(PRESS_KINDS, ev.press)).u16(ev.durationMs).bytes() };
    case 'log':
      return { type: MSG.EV_LOG, payload: w.u8(index(LOG_LEVELS, ev.level)).utf8(ev.text).bytes() };
  }
}

/** Host side: parses an MCU event. Untrusted: E_SERIAL_MESSAGE on anything malformed. */
export function decodeEvent(type: number, payload: Uint8Array): McuEvent {
  const r = new PayloadReader(payload);
  let ev: McuEvent;
  if (type === MSG.EV_BOOT) {
    ev = { type: 'boot', reason: pick(BOOT_REASONS, r.u8(), 'boot reason'), bootCount: r.u32() };
  } else if (type === MSG.EV_BUTTON) {
    ev = { type: 'button', press: pick(PRESS_KINDS, r.u8(), 'press kind'), durationMs: r.u16() };
  } else if (type === MSG.EV_LOG) {
    ev = { type: 'log', level: pick(LOG_LEVELS, r.u8(), 'log level'), text: r.restUtf8() };
  } else {
    throw new ElastosError('E_SERIAL_MESSAGE', `unknown event type 0x${type.toString(16)}`);
  }
  r.end();
  return ev;
}

export function encodeIdentity(id: Identity): Uint8Array {
  return new PayloadWriter().u8(id.version).ascii(id.serial).ascii(id.firmware).u32(id.bootCount).bytes();
}

export function decodeIdentity(payload: Uint8Array): Identity {
  const r = new PayloadReader(payload);
  const id = { version: r.u8(), serial: r.ascii(), firmware: r.ascii(), bootCount: r.u32() };
  r.end();
  return id;
}

export function encodeRtc(rtc: RtcReading): Uint8Array {
  return new PayloadWriter()
    .u64(rtc.unixMs)
    .u8(rtc.valid ? 1 : 0)
    .bytes();
}

export function decodeRtc(payload: Uint8Array): RtcReading {
  const r = new PayloadReader(payload);
  const unixMs = r.u64();
  const valid = r.u8();
  r.end();
  if (valid > 1) throw new ElastosError('E_SERIAL_MESSAGE', 'rtc valid flag');
  // §5.3: the value of an invalid reading is ignored, whatever the MCU put there.
  return { unixMs: valid === 1 ? unixMs : 0, valid: valid === 1 };
}

/** A reply that must be empty (every command but HELLO and RTC_GET). */
export function expectEmpty(payload: Uint8Array): null {
  if (payload.length !== 0) throw new ElastosError('E_SERIAL_MESSAGE', 'unexpected reply payload');
  return null;
}
