/**
 * The rules of spec/protocol.md that an implementer could not have guessed, one test each
 * (§8 lists them). They need the MCU's side under control (drop its ACK, reset it, make it
 * send odd bytes), so they run against the simulator on a real pty pair.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { hasCode } from '@elastos/protocol/errors';
import { Sender } from '../link/sender.js';
import { decodeFrame, encodeFrame, FLAG_SYN } from '../protocol/frame.js';
import { MSG } from '../protocol/messages.js';
import { FaultyTransport } from '../simulator/faults.js';
import { SimRig } from '../testing/pty-rig.js';
import { SerialPortTransport } from '../transport/serialport-transport.js';
import { McuBridge } from './bridge.js';

const until = async (what: string, pred: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('protocol rules (spec/protocol.md §8) against the simulator over a pty pair', function () {
  this.timeout(20_000);
  let rig: SimRig;
  let bridge: McuBridge;

  async function open(sim: ConstructorParameters<typeof SimRig>[0] = {}, ack = { ackTimeoutMs: 40, maxAttempts: 12 }) {
    rig = await SimRig.start(sim);
    bridge = new McuBridge(new FaultyTransport(new SerialPortTransport(rig.hostPath)), { ...ack, probeMs: 60_000 });
    bridge.start();
    await bridge.whenReady(5000);
  }
  afterEach(async () => {
    await bridge?.stop();
    await rig?.close();
  });

  const execs = (type: string) => {
    const seen: string[] = [];
    rig.sim.on('exec', (c) => c.type === type && seen.push(c.type));
    return seen;
  };

  it('R1 a POWER_CYCLE whose ACK was lost runs once, even across the MCU reset (§4.3)', async () => {
    await open({ watchdogOffMs: 20 });
    const cycles = execs('power-cycle');
    rig.faults.dropNext = 1; // the MCU's ACK of POWER_CYCLE is lost
    const done = bridge.powerCycle(20);
    await once(rig.sim, 'power'); // off
    await once(rig.sim, 'power'); // on again
    rig.sim.restartMcu(); // and the MCU itself resets before the host retransmits
    assert.equal(await done, null, 'the retransmission is answered from the kept ACK');
    assert.equal(cycles.length, 1, 'the rails were cycled once');
  });

  it('R2 an event that ran out of attempts is dropped, never re-sent under a new seq (§4.1)', async () => {
    await open({ ackTimeoutMs: 60, maxAttempts: 6 });
    const handled: string[] = [];
    let slow = true;
    bridge.onEvent(async (ev) => {
      if (ev.type !== 'button') return;
      handled.push(`${ev.press}:${ev.durationMs}`);
      if (slow) await new Promise((r) => setTimeout(r, 1500)); // longer than the MCU's 6 x 60 ms
    });
    await assert.rejects(rig.sim.press(2600), (e: Error) => hasCode(e, 'E_SERIAL_TIMEOUT'));
    slow = false;
    await until('the late ACK to land', () => rig.sim.stats().staleAcks >= 1, 4000);
    await rig.sim.press(2700);
    assert.deepEqual(handled, ['long:2600', 'long:2700'], 'each press handled once, in order');
  });

  it('R3 a kick while not armed is refused NAK bad-state, the signal to arm again (§5.2)', async () => {
    await open();
    await bridge.armWatchdog(5000);
    rig.sim.forgetWatchdog();
    await assert.rejects(
      bridge.kickWatchdog(),
      (e: Error) => hasCode(e, 'E_SERIAL_REJECTED') && /bad-state/.test(e.message),
    );
    await bridge.armWatchdog(5000);
    await bridge.kickWatchdog();
    await bridge.disarmWatchdog();
  });

  it('R4 maxAttempts counts transmissions, the first included (§4.1)', async () => {
    // 100 ms: long enough that the MCU's end always sees each of the three frames in time on a busy host.
    await open({}, { ackTimeoutMs: 100, maxAttempts: 3 });
    const pings = execs('ping');
    const before = rig.sim.stats().duplicates;
    rig.faults.dropNext = 3; // every ACK of the three transmissions is lost
    await assert.rejects(bridge.ping(), (e: Error) => hasCode(e, 'E_SERIAL_TIMEOUT') && /3 attempts/.test(e.message));
    assert.equal(pings.length, 1, 'handled once');
    assert.equal(rig.sim.stats().duplicates - before, 2, 'then two retransmissions: three frames in all');
  });

  it('R5 an ACK carrying SYN is a bad frame (§3)', async () => {
    await open();
    const port = new SerialPortTransport(rig.hostPath);
    await bridge.stop();
    await port.open();
    await port.write(encodeFrame({ flags: 0x03, seq: 1, type: MSG.PING, payload: new Uint8Array(0) }));
    await until('the MCU to reject it', () => (rig.sim.stats().rejected.flags ?? 0) === 1);
    await port.close();
  });

  it('R6 SYN stays on every new frame until a SYN frame was acknowledged (§4.3)', async () => {
    const wires: Uint8Array[] = [];
    const sender = new Sender({ ackTimeoutMs: 5, maxAttempts: 2, maxQueue: 4 });
    sender.attach(async (w) => {
      wires.push(w);
    });
    const flagsOf = (i: number) => decodeFrame(wires[i]?.subarray(0, -1) ?? new Uint8Array()).flags;
    await assert.rejects(sender.request(MSG.EV_BOOT, Uint8Array.of(0, 1, 0, 0, 0)), (e: Error) =>
      hasCode(e, 'E_SERIAL_TIMEOUT'),
    );
    const next = sender.request(MSG.EV_LOG, Uint8Array.of(1));
    assert.equal(flagsOf(2) & FLAG_SYN, FLAG_SYN, 'the frame after an unacknowledged SYN carries SYN');
    const sent = decodeFrame(wires[2]?.subarray(0, -1) ?? new Uint8Array());
    sender.onAck({ flags: 1, seq: sent.seq, type: sent.type, payload: new Uint8Array(0) });
    await next;
    void sender.request(MSG.EV_LOG, Uint8Array.of(1)).catch(() => {});
    assert.equal(flagsOf(3) & FLAG_SYN, 0, 'after an acknowledged SYN, no more');
    sender.detach(new Error('done') as never);
  });

  it('R7 a LOG of 239 bytes of text fits one frame; 240 is the payload limit (§3)', async () => {
    await open();
    const texts: string[] = [];
    bridge.onEvent((ev) => {
      if (ev.type === 'log') texts.push(ev.text);
    });
    await rig.sim.log('info', 'x'.repeat(239));
    assert.deepEqual(texts, ['x'.repeat(239)]);
    await assert.rejects(rig.sim.log('info', 'x'.repeat(240)), RangeError);
  });

  it('R8 an MCU answers a HELLO of any version with its own version (§5.1)', async () => {
    await open();
    const id = await bridge.hello(99);
    assert.equal(id.version, 1);
  });

  it('R9 RTC_GET while the RTC is invalid reads 0, valid = 0 (§5.3)', async () => {
    await open({ rtcInvalid: true });
    assert.deepEqual(await bridge.getRtc(), { unixMs: 0, valid: false });
    await bridge.setRtc(Date.parse('2031-01-01T00:00:00Z'));
    assert.equal((await bridge.getRtc()).valid, true);
  });

  it('R10 LOG text that is not UTF-8 is kept with U+FFFD, not refused (§5.5)', async () => {
    await open();
    const texts: string[] = [];
    bridge.onEvent((ev) => {
      if (ev.type === 'log') texts.push(ev.text);
    });
    await rig.sim.sendRaw(MSG.EV_LOG, Uint8Array.of(1, 0xff, 0x6f, 0x6b, 0xc3));
    assert.deepEqual(texts, ['\ufffdok\ufffd']);
  });

  it('R11 a BOOT that ran out of attempts (nobody listened) is sent again after the next HELLO (§5.6)', async () => {
    rig = await SimRig.start({ ackTimeoutMs: 20, maxAttempts: 3 });
    await until('the BOOT to run out of attempts', () => rig.sim.stats().timeouts >= 1, 3000);
    bridge = new McuBridge(new SerialPortTransport(rig.hostPath), { ackTimeoutMs: 40, maxAttempts: 12 });
    const boots: number[] = [];
    bridge.onEvent((ev) => {
      if (ev.type === 'boot') boots.push(ev.bootCount);
    });
    bridge.start();
    await bridge.whenReady(5000);
    await until('the BOOT after HELLO', () => boots.length === 1, 3000);
    assert.deepEqual(boots, [1]);
  });

  it('R11 a BOOT whose send a HELLO interrupted, and that then ran out, is sent again (§5.6)', async () => {
    // The host connects while the BOOT is still being retransmitted and cannot record it yet
    // (its listener fails: no ACK), so this send runs out after the HELLO: no second HELLO comes.
    rig = await SimRig.start({ ackTimeoutMs: 100, maxAttempts: 20 });
    bridge = new McuBridge(new SerialPortTransport(rig.hostPath), { ackTimeoutMs: 40, maxAttempts: 12 });
    const boots: number[] = [];
    bridge.onEvent((ev) => {
      if (ev.type !== 'boot') return;
      if (rig.sim.stats().timeouts === 0) throw new Error('not recorded yet');
      boots.push(ev.bootCount);
    });
    bridge.start();
    await bridge.whenReady(5000);
    assert.equal(rig.sim.stats().timeouts, 0, 'the HELLO came while the BOOT was being sent');
    await until('the BOOT to run out of attempts', () => rig.sim.stats().timeouts >= 1, 5000);
    await until('the BOOT sent again', () => boots.length === 1, 3000);
    assert.deepEqual(boots, [1]);
  });
});
