import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SerialPortTransport } from '../transport/serialport-transport.js';
import { type Faults, FaultyTransport, NO_FAULTS, prng } from './faults.js';
import { McuSimulator } from './mcu-simulator.js';

const HELP = `usage: node firmware-bridge/dist/simulator/main.js --port PATH [options]

The simulated board MCU (spec/protocol.md) on one end of a pty pair.
  --port PATH        the MCU's end of the pty pair (socat ... link=PATH)
  --serial S         board serial (default SIM-0001)
  --drift-ppm N      RTC drift in ppm (default 0)
  --rtc-invalid      start with an invalid RTC (dead backup battery)
  --faults JSON      fault injection, e.g. '{"bitFlipRate":0.01,"dropRate":0.01}'
  --seed N           seed of the fault PRNG (default random)
  --long-press-ms N  threshold of a long press (default 2000)
  --watchdog-off-ms N  how long the rails stay off when the watchdog fires (default 200)
Control: one JSON command per stdin line: {"cmd":"press","ms":2500} | {"cmd":"faults",...} |
{"cmd":"power-cycle","offMs":500} | {"cmd":"log","text":"..."} | {"cmd":"rtc","unixMs":N} |
{"cmd":"watchdog","hold":true|false} | {"cmd":"status"}.
SIGUSR1 presses the button briefly, SIGUSR2 long. Events go to stdout, one JSON object per line.`;

const emit = (obj: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function parse() {
  const { values } = parseArgs({
    options: {
      'watchdog-off-ms': { type: 'string', default: '200' },
      port: { type: 'string' },
      serial: { type: 'string', default: 'SIM-0001' },
      'drift-ppm': { type: 'string', default: '0' },
      'rtc-invalid': { type: 'boolean', default: false },
      faults: { type: 'string', default: '{}' },
      seed: { type: 'string' },
      'long-press-ms': { type: 'string', default: '2000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.port) {
    process.stdout.write(`${HELP}\n`);
    process.exit(values.help ? 0 : 64);
  }
  return { ...values, port: values.port };
}

function control(sim: McuSimulator, faulty: FaultyTransport, line: string): void {
  const msg = JSON.parse(line) as {
    cmd?: string;
    ms?: number;
    offMs?: number;
    text?: string;
    unixMs?: number;
    hold?: boolean;
  } & Partial<Faults>;
  const done = (p: Promise<unknown>) =>
    p.then(
      () => emit({ event: 'done', cmd: msg.cmd }),
      (e: Error) => emit({ event: 'failed', cmd: msg.cmd, error: e.message }),
    );
  // A rig's press takes as long as it is held: the MCU reports it on release (spec §5.5), so the
  // host's "when did it begin" (arrival minus held time) is true, as on a board.
  if (msg.cmd === 'press') {
    const ms = msg.ms ?? 100;
    void done(new Promise((r) => setTimeout(r, ms)).then(() => sim.press(ms)));
  } else if (msg.cmd === 'log') void done(sim.log('info', msg.text ?? ''));
  else if (msg.cmd === 'power-cycle') sim.powerCycle(msg.offMs ?? 500);
  else if (msg.cmd === 'rtc') sim.clock.set(msg.unixMs ?? Date.now());
  else if (msg.cmd === 'watchdog') sim.watchdogHeld = msg.hold === true;
  else if (msg.cmd === 'faults') faulty.faults = { ...NO_FAULTS, ...msg, delayMs: msg.delayMs ?? 0 };
  else if (msg.cmd === 'status') {
    const { powered, bootCount, led, ledCode, watchdog, watchdogHeld } = sim;
    emit({
      event: 'status',
      powered,
      bootCount,
      led,
      ledCode,
      watchdog,
      watchdogHeld,
      rtc: sim.clock.read(),
      link: sim.stats(),
    });
  } else emit({ event: 'failed', cmd: msg.cmd, error: 'unknown command' });
}

async function main(): Promise<void> {
  const args = parse();
  const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
  const faulty = new FaultyTransport(new SerialPortTransport(args.port), prng(seed));
  faulty.faults = { ...NO_FAULTS, ...(JSON.parse(args.faults) as Partial<Faults>) };
  const sim = new McuSimulator(faulty, {
    serial: args.serial,
    driftPpm: Number(args['drift-ppm']),
    rtcInvalid: args['rtc-invalid'],
    longPressMs: Number(args['long-press-ms']),
    watchdogOffMs: Number(args['watchdog-off-ms']),
  });
  sim.on('power', (p) => emit({ event: 'power', ...p, bootCount: sim.bootCount }));
  sim.on('led', (state) => emit({ event: 'led', state }));
  sim.on('led-code', (code) => emit({ event: 'led-code', code }));
  sim.on('exec', (cmd) => emit({ event: 'exec', cmd }));
  await sim.start();
  emit({ event: 'ready', port: args.port, pid: process.pid, seed });
  createInterface({ input: process.stdin }).on('line', (line) => {
    try {
      control(sim, faulty, line);
    } catch (e) {
      emit({ event: 'failed', error: (e as Error).message });
    }
  });
  process.on('SIGUSR1', () => void sim.press(200).catch(() => {}));
  process.on('SIGUSR2', () => void sim.press(sim.options.longPressMs + 500).catch(() => {}));
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`error ${(err as { code?: string }).code ?? 'E_INTERNAL'}: ${(err as Error).message}\n`);
  process.exit(1);
});
