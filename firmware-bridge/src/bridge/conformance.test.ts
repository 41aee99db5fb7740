import assert from 'node:assert/strict';
import { hasCode } from '@elastos/protocol/errors';
import { LED_STATES } from '../protocol/messages.js';
import { FaultyTransport } from '../simulator/faults.js';
import { conformanceRig, type Rig } from '../testing/pty-rig.js';
import { SerialPortTransport } from '../transport/serialport-transport.js';
import { McuBridge } from './bridge.js';

/**
 * One body, two targets: the simulator on a real pty pair, or the board on SERIAL_PORT.
 * Faults here are injected on the host's side, so they work against a real device too.
 */
describe(`bridge conformance over ${process.env.SERIAL_PORT ?? 'a pty pair and the simulator'}`, () => {
  let rig: Rig;
  let host: FaultyTransport;
  let bridge: McuBridge;

  before(async () => {
    rig = await conformanceRig();
  });
  after(() => rig.close());

  beforeEach(async () => {
    host = new FaultyTransport(new SerialPortTransport(rig.hostPath));
    bridge = new McuBridge(host, { ackTimeoutMs: 40, maxAttempts: 12 });
    bridge.start();
    await bridge.whenReady(5000);
  });
  afterEach(() => bridge.stop());

  it('says HELLO and learns the board identity and protocol version', async () => {
    const id = await bridge.hello();
    assert.equal(id.version, 1);
    assert.match(id.serial, /^[\x20-\x7e]+$/);
    assert.ok(id.firmware.length > 0);
    assert.ok(id.bootCount >= 1);
  });

  it('acknowledges every LED state, the RTC and the watchdog commands', async () => {
    for (const state of LED_STATES) assert.equal(await bridge.setLed(state), null);
    const at = Date.parse('2031-05-06T07:08:09Z');
    await bridge.setRtc(at);
    const rtc = await bridge.getRtc();
    assert.ok(rtc.valid && Math.abs(rtc.unixMs - at) < 1000, JSON.stringify(rtc));
    await bridge.setRtc(Date.now());
    await bridge.armWatchdog(5000);
    await bridge.kickWatchdog();
    await bridge.disarmWatchdog();
  });

  it('gets a coded refusal for a command in the wrong state (kick while disarmed)', async () => {
    await bridge.disarmWatchdog();
    await assert.rejects(bridge.kickWatchdog(), (e: Error) => hasCode(e, 'E_SERIAL_REJECTED'));
  });

  it('keeps every acknowledged RTC_SET through garbage and 1% bit errors on the host side', async () => {
    host.faults = { bitFlipRate: 0.01, dropRate: 0.01, duplicateRate: 0.01, garbageRate: 0.05, delayMs: 0 };
    const base = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 60; i++) {
      const at = base + i * 3_600_000;
      await bridge.setRtc(at);
      const rtc = await bridge.getRtc();
      assert.ok(Math.abs(rtc.unixMs - at) < 1000, `set ${at}, read ${rtc.unixMs}`);
    }
    host.faults = { ...host.faults, bitFlipRate: 0, dropRate: 0, duplicateRate: 0, garbageRate: 0 };
    await bridge.setRtc(Date.now());
    assert.ok(host.injected.bitFlips + host.injected.garbage + host.injected.drops > 0);
    assert.equal(bridge.state, 'ready');
  });

  it('applies backpressure: a full queue refuses with E_SERIAL_BUSY and loses nothing it took', async () => {
    const max = bridge.options.maxQueue;
    const results = await Promise.allSettled(Array.from({ length: max + 6 }, () => bridge.ping()));
    const busy = results.filter((r) => r.status === 'rejected' && hasCode(r.reason, 'E_SERIAL_BUSY'));
    const ok = results.filter((r) => r.status === 'fulfilled');
    assert.equal(busy.length, 5, 'one in flight plus maxQueue waiting; the rest are refused');
    assert.equal(ok.length, max + 1);
  });
});
