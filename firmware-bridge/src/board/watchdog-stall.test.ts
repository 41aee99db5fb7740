import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, SocatPtyPair } from '@elastos/testkit';
import { RecordingAuditSink } from '../testing/recording-audit-sink.js';
import { silentLog } from '../testing/silent-log.js';
import { SimProcess } from '../testing/sim-process.js';
import { SerialPortTransport } from '../transport/serialport-transport.js';
import { McuBoardService } from './board-service.js';
import { CLOCK_FLOOR_MS, systemClockTrusted } from './system-clock.js';

/** Blocks this process's event loop, as a hung runtime would (no timers, no I/O). */
const stall = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('watchdog against a stalled runtime (simulator in its own process)', function () {
  this.timeout(20_000);
  const tmp = makeTempDir('elastos-stall-');
  const pair = new SocatPtyPair(tmp.path);
  const sim = new SimProcess();
  after(async () => {
    await sim.stop();
    await pair.stop();
    tmp.remove();
  });

  it('cuts the power when the runtime stops kicking, and the runtime sees a watchdog boot', async () => {
    await pair.start();
    await sim.start(pair.mcu);
    const audit = new RecordingAuditSink();
    const serial = { path: pair.host, baudRate: 115200, watchdogMs: 1000, clockSyncMarker: '', presenceWindowMs: 2000 };
    const board = new McuBoardService(
      { serial, log: silentLog, audit },
      { transport: new SerialPortTransport(pair.host), bridge: { ackTimeoutMs: 30 } },
    );
    await board.start();
    try {
      await audit.waitFor('mcu.watchdog.arm');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(
        sim.lines.filter((l) => l.event === 'power' && l.on === false).length,
        0,
        'no reset while the runtime runs',
      );
      stall(1800);
      const off = await sim.waitFor((l) => l.event === 'power' && l.on === false);
      assert.equal(off.reason, 'watchdog-fired');
      await audit.waitFor('mcu.boot', (e) => e.details?.reason === 'watchdog');
    } finally {
      await board.stop();
    }
  });
});

describe('system clock trust (spec/protocol.md §7)', () => {
  it('distrusts a clock before the floor, and one without the sync marker when a marker is named', () => {
    const tmp = makeTempDir();
    const marker = join(tmp.path, 'synchronized');
    assert.equal(systemClockTrusted('', CLOCK_FLOOR_MS - 1), false);
    assert.equal(systemClockTrusted('', CLOCK_FLOOR_MS + 1), true);
    assert.equal(systemClockTrusted(marker, Date.now()), false);
    writeFileSync(marker, '');
    assert.equal(systemClockTrusted(marker, Date.now()), true);
    assert.equal(systemClockTrusted(marker, 0), false);
    tmp.remove();
  });
});
