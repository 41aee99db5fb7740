import assert from 'node:assert/strict';
import { once } from 'node:events';
import { SimRig } from '../testing/pty-rig.js';
import { RecordingAuditSink } from '../testing/recording-audit-sink.js';
import { silentLog } from '../testing/silent-log.js';
import { SerialPortTransport } from '../transport/serialport-transport.js';
import type { BoardSerialSettings } from './board.js';
import { type BoardOptions, McuBoardService } from './board-service.js';

const log = silentLog;
const serial = (path: string, over: Partial<BoardSerialSettings> = {}): BoardSerialSettings => ({
  path,
  baudRate: 115200,
  watchdogMs: 1000,
  clockSyncMarker: '',
  presenceWindowMs: 2000,
  ...over,
});
const until = async (what: string, pred: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('board service: the runtime on the MCU, over a real pty pair', function () {
  this.timeout(20_000);
  let rig: SimRig;
  let board: McuBoardService;
  let audit: RecordingAuditSink;
  let healthy: boolean;

  async function open(options: Partial<BoardOptions> = {}, over: Partial<BoardSerialSettings> = {}) {
    rig = await SimRig.start({ ackTimeoutMs: 30 });
    audit = new RecordingAuditSink();
    healthy = true;
    const deps = { serial: serial(rig.hostPath, over), log, audit, healthy: () => healthy };
    const transport = new SerialPortTransport(rig.hostPath);
    board = new McuBoardService(deps, { transport, bridge: { ackTimeoutMs: 30, maxAttempts: 10 }, ...options });
    await board.start();
    await board.bridge.whenReady(5000);
    await audit.waitFor('mcu.watchdog.arm');
  }
  afterEach(async () => {
    await board.stop();
    await rig.close();
  });

  it('kicks the watchdog while healthy and lets it fire once the runtime is not', async () => {
    await open();
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(rig.sim.bootCount, 1, 'no watchdog reset while healthy');
    assert.equal(rig.sim.watchdog.armed, true);
    healthy = false;
    const [power] = await once(rig.sim, 'power');
    assert.deepEqual(power, { on: false, reason: 'watchdog-fired' });
    const boot = await audit.waitFor('mcu.boot', (e) => e.details?.reason === 'watchdog');
    assert.equal(boot.actor, 'mcu');
    // After the reset the MCU forgot its watchdog: the board service arms it again.
    await until('re-armed watchdog', () => rig.sim.watchdog.armed && rig.sim.bootCount === 2);
    await until('attention LED', () => rig.sim.led === 'attention');
  });

  it('shows state on the LED and approves a pending request with a long press within the window', async () => {
    await open();
    await until('ok LED', () => rig.sim.led === 'ok');
    const presses: number[] = [];
    board.onLongPress((p) => presses.push(p.durationMs));
    const approval = board.confirmPresence(3000);
    await until('attention LED', () => rig.sim.led === 'attention');
    await rig.sim.press(2600);
    assert.equal(await approval, true);
    assert.deepEqual(presses, [2600]);
    await until('ok LED again', () => rig.sim.led === 'ok');
    assert.equal(audit.ofType('mcu.presence')[0]?.decision, 'allow');
    assert.deepEqual(audit.ofType('mcu.button')[0]?.details, { durationMs: 2600 });

    const refused = board.confirmPresence(1000);
    await rig.sim.press(300);
    assert.equal(await refused, false, 'a short press is no approval; the window closes');
    assert.equal(audit.ofType('mcu.presence')[1]?.decision, 'deny');

    board.markTamper('test');
    await until('tamper LED', () => rig.sim.led === 'tamper');
  });

  it('names the shown request on the LED by its blink code, sent again after an MCU reset, cleared after (§5.3)', async () => {
    await open();
    await until('ok LED', () => rig.sim.led === 'ok');
    board.showRequest(4);
    await until('attention, 4 blinks', () => rig.sim.led === 'attention' && rig.sim.ledCode === 4);
    assert.equal(board.status().ledCode, 4);
    rig.sim.powerCycle(50);
    await until('the code again after the reset', () => rig.sim.bootCount === 2 && rig.sim.ledCode === 4);
    board.showRequest(0);
    await until('no code, ok LED', () => rig.sim.ledCode === 0 && rig.sim.led === 'ok');
    assert.ok(audit.ofType('mcu.led').some((r) => (r.details as { code?: number }).code === 4));
    assert.throws(() => board.showRequest(10), { code: 'E_SERIAL_MESSAGE' });
  });

  it('takes wall time from the RTC when the system clock is not trusted', async () => {
    const rtcAt = Date.parse('2031-02-03T04:05:06Z');
    await open({ clockTrusted: () => false });
    rig.sim.clock.set(rtcAt);
    const t0 = performance.now();
    await board.syncClock();
    assert.equal(board.status().clockSource, 'rtc');
    const drift = board.now() - (rtcAt + (performance.now() - t0));
    assert.ok(Math.abs(drift) < 200, `board clock off the RTC by ${drift} ms`);
    assert.ok(audit.ofType('mcu.clock.from-rtc').length >= 1);
  });

  it('corrects a drifting RTC from a trusted system clock', async () => {
    await open({ clockTrusted: () => true, clockSyncMs: 200, maxRtcSkewMs: 50 });
    rig.sim.clock.set(Date.now() + 5000);
    await audit.waitFor('mcu.clock.rtc-set', (e) => Number(e.details?.skewMs) > 4000);
    assert.ok(Math.abs(rig.sim.clock.read().unixMs - Date.now()) < 100);
    assert.equal(board.now() <= Date.now(), true);
  });

  it('audits the bridge events: link up and down, MCU log lines, rejected frames', async () => {
    await open({ reportMs: 100 });
    assert.ok(audit.ofType('mcu.link.up')[0]?.details?.serial === 'SIM-0001');
    await rig.sim.log('warn', 'vbat low');
    assert.deepEqual(audit.ofType('mcu.log')[0]?.details, { level: 'warn', text: 'vbat low' });
    // An event whose audit record cannot be made durable is not acknowledged: the MCU sends it again.
    audit.failures = 2;
    await rig.sim.log('error', 'rail fault');
    assert.equal(audit.ofType('mcu.log').filter((e) => e.details?.text === 'rail fault').length, 1);
    assert.equal(audit.failures, 0);
    rig.faults.faults.garbageRate = 1;
    await board.bridge.ping();
    rig.faults.faults.garbageRate = 0;
    const rejected = await audit.waitFor('mcu.frames.rejected');
    assert.equal(rejected.code, 'E_SERIAL_FRAME');
    await rig.pair.stop();
    await board.bridge.ping().catch(() => {});
    const down = await audit.waitFor('mcu.link.down');
    assert.equal(down.code, 'E_SERIAL_CLOSED');
    await rig.pair.start();
    await until('second link.up', () => audit.ofType('mcu.link.up').length >= 2);
  });

  it('re-arms the watchdog when a kick is answered NAK not-armed (a BOOT the host never saw, spec §5.2)', async () => {
    await open();
    const arms = audit.ofType('mcu.watchdog.arm').length;
    rig.sim.forgetWatchdog();
    await until('the watchdog armed again', () => rig.sim.watchdog.armed, 3000);
    // The MCU is armed when it runs the command; the record follows its ACK back to the host.
    await until('the re-arm audited', () => audit.ofType('mcu.watchdog.arm').length > arms, 3000);
    assert.equal(audit.ofType('mcu.watchdog.arm').length, arms + 1);
  });

  it('one press approves one request, even when its record failed and the MCU sent it again (§4.1, §5.5)', async () => {
    await open();
    const first = board.confirmPresence(4000);
    const second = board.confirmPresence(1500);
    audit.failOnly = 'mcu.button';
    audit.failures = 1;
    await rig.sim.press(2600);
    assert.equal(await first, true);
    assert.equal(await second, false, 'the retransmitted press approved nothing more');
    assert.equal(audit.ofType('mcu.button').length, 1);
  });

  it("the press's flag decides, not its held time (§5.5)", async () => {
    await open();
    const shortFlag = board.confirmPresence(800);
    await rig.sim.press(5000, 'short');
    assert.equal(await shortFlag, false, 'a short flag held 5 s is no presence');
    const longFlag = board.confirmPresence(3000);
    await rig.sim.press(100, 'long');
    assert.equal(await longFlag, true, 'a long flag is a long press whatever the time');
  });
});
