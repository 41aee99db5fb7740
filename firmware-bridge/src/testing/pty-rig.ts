import { makeTempDir, SocatPtyPair } from '@elastos/testkit';
import { FaultyTransport, prng } from '../simulator/faults.js';
import { McuSimulator, type SimulatorOptions } from '../simulator/mcu-simulator.js';
import { SerialPortTransport } from '../transport/serialport-transport.js';

/**
 * Where the host's end of the serial line is: a real device named by SERIAL_PORT (as
 * node-serialport's own tests do), or a socat pty pair with the simulator on the other end.
 */
export interface Rig {
  readonly name: string;
  readonly hostPath: string;
  close(): Promise<void>;
}

/** The simulator on a real pty pair; `faults` damages what the simulator sends and receives. */
export class SimRig implements Rig {
  readonly name = 'a socat pty pair and the MCU simulator';
  readonly pair: SocatPtyPair;
  readonly faults: FaultyTransport;
  readonly sim: McuSimulator;
  private readonly tmp = makeTempDir('elastos-serial-');

  constructor(options: Partial<SimulatorOptions> = {}, seed = Date.now() % 2 ** 31) {
    this.pair = new SocatPtyPair(this.tmp.path);
    this.faults = new FaultyTransport(new SerialPortTransport(this.pair.mcu), prng(seed));
    this.sim = new McuSimulator(this.faults, { ackTimeoutMs: 30, ...options });
  }

  static async start(options: Partial<SimulatorOptions> = {}, seed?: number): Promise<SimRig> {
    const rig = new SimRig(options, seed);
    await rig.pair.start();
    await rig.sim.start();
    return rig;
  }

  get hostPath(): string {
    return this.pair.host;
  }

  async close(): Promise<void> {
    await this.sim.stop();
    await this.pair.stop();
    this.tmp.remove();
  }
}

/** A real board on SERIAL_PORT. */
export class DeviceRig implements Rig {
  readonly name: string;
  constructor(readonly hostPath: string) {
    this.name = `the device on ${hostPath}`;
  }
  async close(): Promise<void> {}
}

/** The rig of the conformance suite: SERIAL_PORT when set, else the simulator. */
export function conformanceRig(): Promise<Rig> {
  const device = process.env.SERIAL_PORT;
  return device ? Promise.resolve(new DeviceRig(device)) : SimRig.start();
}
