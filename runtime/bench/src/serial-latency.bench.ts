import { McuBridge } from '@elastos/firmware-bridge/bridge/bridge';
import { McuSimulator } from '@elastos/firmware-bridge/simulator/mcu-simulator';
import { SerialPortTransport } from '@elastos/firmware-bridge/transport/serialport-transport';
import { makeTempDir, SocatPtyPair } from '@elastos/testkit';

/**
 * Round trip of an acknowledged command (PING through bridge, link and simulator) over a socat
 * pty pair, against the same pty pair echoing raw bytes: what the protocol adds on top of the line.
 */
const ROUNDS = 400;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function rawEcho(pair: SocatPtyPair): Promise<number> {
  const host = new SerialPortTransport(pair.host);
  const echo = new SerialPortTransport(pair.mcu);
  await host.open();
  await echo.open();
  echo.onData((chunk) => void echo.write(chunk));
  let waiting: (() => void) | undefined;
  let got = 0;
  host.onData((chunk) => {
    got += chunk.length;
    if (got >= 9) waiting?.();
  });
  const frame = Uint8Array.of(2, 1, 2, 3, 4, 5, 6, 7, 0);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    got = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiting = resolve;
      void host.write(frame);
    });
    times.push((performance.now() - t0) * 1000);
  }
  await host.close();
  await echo.close();
  return median(times);
}

async function ackedCommand(pair: SocatPtyPair): Promise<number> {
  const sim = new McuSimulator(new SerialPortTransport(pair.mcu));
  await sim.start();
  const bridge = new McuBridge(new SerialPortTransport(pair.host), { probeMs: 60_000 });
  bridge.start();
  await bridge.whenReady(5000);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await bridge.ping();
    times.push((performance.now() - t0) * 1000);
  }
  await bridge.stop();
  await sim.stop();
  return median(times);
}

async function main(): Promise<void> {
  const tmp = makeTempDir('elastos-bench-');
  const pair = new SocatPtyPair(tmp.path);
  await pair.start();
  try {
    const baseline = await rawEcho(pair);
    const value = await ackedCommand(pair);
    const row = {
      name: 'serial: acked command round trip (pty)',
      value,
      unit: 'us',
      baseline,
      ratio: value / baseline,
    };
    process.stdout.write(`${JSON.stringify([{ ...row, goal: 'under 1 ms; the UART adds ~1 ms at 115200 baud' }])}\n`);
  } finally {
    await pair.stop();
    tmp.remove();
  }
}

await main();
