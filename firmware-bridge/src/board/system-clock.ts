import { existsSync } from 'node:fs';

/**
 * No clock reading before this instant is plausible: the software did not exist yet
 * (spec/protocol.md §7). A board without network time boots at 1970 or at its image build date.
 */
export const CLOCK_FLOOR_MS = Date.parse('2026-01-01T00:00:00Z');

/**
 * Whether the system clock is trusted (spec §7): it is past the floor and, when a sync marker is
 * configured, the time daemon has written it (systemd-timesyncd touches
 * /run/systemd/timesync/synchronized after its first NTP sync).
 */
export function systemClockTrusted(syncMarker: string, nowMs = Date.now()): boolean {
  if (nowMs < CLOCK_FLOOR_MS) return false;
  return syncMarker === '' || existsSync(syncMarker);
}

/** Wall time carried forward from one RTC reading by the monotonic clock (immune to system clock jumps). */
export class RtcTime {
  private reading: { unixMs: number; mono: number } | undefined;

  set(unixMs: number, mono = performance.now()): void {
    this.reading = { unixMs, mono };
  }

  get known(): boolean {
    return this.reading !== undefined;
  }

  now(mono = performance.now()): number | undefined {
    return this.reading ? Math.round(this.reading.unixMs + (mono - this.reading.mono)) : undefined;
  }
}
