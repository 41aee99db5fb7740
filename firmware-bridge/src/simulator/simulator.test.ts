import assert from 'node:assert/strict';
import { once } from 'node:events';
import { hasCode } from '@elastos/protocol/errors';
import { McuBridge } from '../bridge/bridge.js';
import type { Command, McuEvent } from '../protocol/messages.js';
import { SimRig } from '../testing/pty-rig.js';
import { SerialPortTransport } from '../transport/serialport-transport.js';

const nextEvent = (bridge: McuBridge, type: McuEvent['type']) =>
  new Promise<McuEvent>((resolve) => {
    const on = (ev: McuEvent) => {
      if (ev.type !== type) return;
      bridge.off('event', on);
      resolve(ev);
    };
    bridge.on('event', on);
  });

/** Faults and failures only the simulator can produce, over a real pty pair. */
describe('bridge and MCU simulator over a real pty pair', function () {
  this.timeout(20_000);
  let rig: SimRig;
  let bridge: McuBridge;

  async function open(options: ConstructorParameters<typeof SimRig>[0] = {}, seed = 1234): Promise<void> {
    rig = await SimRig.start(options, seed);
    bridge = new McuBridge(new SerialPortTransport(rig.hostPath), {
      ackTimeoutMs: 30,
      maxAttempts: 15,
      reconnectMs: 50,
    });
    bridge.start();
  }
  afterEach(async () => {
    await bridge.stop();
    await rig.close();
  });

  it('loses no acknowledged command under 1% bit errors plus drops, duplicates and garbage', async () => {
    await open();
    await bridge.whenReady(5000);
    rig.faults.faults = { bitFlipRate: 0.01, dropRate: 0.01, duplicateRate: 0.01, garbageRate: 0.01, delayMs: 0 };
    const executed: number[] = [];
    rig.sim.on('exec', (cmd: Command) => {
      if (cmd.type === 'rtc-set') executed.push(cmd.unixMs);
    });
    const acked: number[] = [];
    const base = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 300; i++) {
      try {
        await bridge.setRtc(base + i);
        acked.push(base + i);
      } catch (err) {
        assert.ok(hasCode(err, 'E_SERIAL_TIMEOUT'), String(err));
      }
    }
    rig.faults.faults = { bitFlipRate: 0, dropRate: 0, duplicateRate: 0, garbageRate: 0, delayMs: 0 };
    // Every acknowledged command ran exactly once and in order; a retransmission never ran twice.
    assert.deepEqual(
      executed.filter((v) => acked.includes(v)),
      acked,
    );
    assert.equal(new Set(executed).size, executed.length, 'no command executed twice');
    assert.ok(acked.length >= 295, `only ${acked.length} of 300 acknowledged`);
    const s = bridge.stats();
    assert.ok(rig.faults.injected.bitFlips > 20, `${rig.faults.injected.bitFlips} flips injected`);
    assert.ok((s.rejected.crc ?? 0) + (s.rejected.cobs ?? 0) > 0, JSON.stringify(s.rejected));
    assert.ok(s.retries > 0 && rig.sim.stats().duplicates > 0);
  });

  it('runs a command once when its ACK is slower than the retry timeout (delays)', async () => {
    await open();
    await bridge.whenReady(5000);
    rig.faults.faults.delayMs = 40;
    let leds = 0;
    rig.sim.on('exec', (cmd: Command) => {
      if (cmd.type === 'led') leds++;
    });
    for (const state of ['ok', 'attention', 'ok', 'tamper'] as const) await bridge.setLed(state);
    rig.faults.faults.delayMs = 0;
    assert.equal(leds, 4);
    assert.ok(bridge.stats().retries > 0, 'the host retransmitted');
    assert.ok(rig.sim.stats().duplicates > 0, 'the MCU answered the copies from its cache');
  });

  it('resynchronises after garbage from the MCU side and reports what it dropped', async () => {
    await open();
    await bridge.whenReady(5000);
    rig.faults.faults = { bitFlipRate: 0, dropRate: 0, duplicateRate: 0, garbageRate: 1, delayMs: 0 };
    for (let i = 0; i < 30; i++) await bridge.ping();
    rig.faults.faults.garbageRate = 0;
    const rejected = bridge.stats().rejected;
    const total = Object.values(rejected).reduce((a, b) => a + b, 0);
    assert.ok(total >= 25, JSON.stringify(rejected));
    assert.equal(bridge.state, 'ready');
  });

  it('reconnects after an unplug and replug of the pty pair', async () => {
    await open();
    await bridge.whenReady(5000);
    const down = once(bridge, 'down');
    await rig.pair.stop();
    await bridge.ping().catch(() => {});
    await down;
    await assert.rejects(bridge.ping(), (e: Error) => hasCode(e, 'E_SERIAL_CLOSED'));
    await rig.pair.start();
    const id = await bridge.whenReady(5000);
    assert.equal(id.serial, 'SIM-0001');
    assert.equal(await bridge.ping(), null);
    assert.ok(bridge.stats().reconnects >= 1);
  });

  it('times out with E_SERIAL_TIMEOUT while the board is off, then sees it boot', async () => {
    await open();
    await bridge.whenReady(5000);
    const boot = nextEvent(bridge, 'boot');
    rig.sim.powerCycle(1500);
    await assert.rejects(bridge.ping(), (e: Error) => hasCode(e, 'E_SERIAL_TIMEOUT'));
    assert.deepEqual(await boot, { type: 'boot', reason: 'power-cycle', bootCount: 2 });
  });

  it('cycles the board power on command (the test rig) and reports the boot', async () => {
    await open();
    await bridge.whenReady(5000);
    const boot = nextEvent(bridge, 'boot');
    const off = once(rig.sim, 'power');
    await bridge.powerCycle(100);
    assert.deepEqual((await off)[0], { on: false, reason: 'power-cycle' });
    assert.equal(((await boot) as { reason: string }).reason, 'power-cycle');
  });

  it('reports short and long presses of the button', async () => {
    await open();
    await bridge.whenReady(5000);
    let button = nextEvent(bridge, 'button');
    await rig.sim.press(300);
    assert.deepEqual(await button, { type: 'button', press: 'short', durationMs: 300 });
    button = nextEvent(bridge, 'button');
    await rig.sim.press(2500);
    assert.deepEqual(await button, { type: 'button', press: 'long', durationMs: 2500 });
  });

  it('refuses an MCU of another protocol version with E_SERIAL_VERSION', async () => {
    await open({ version: 2 });
    const [err] = (await once(bridge, 'down')) as [Error];
    assert.ok(hasCode(err, 'E_SERIAL_VERSION'), String(err));
    assert.notEqual(bridge.state, 'ready');
  });
});
