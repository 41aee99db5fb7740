import { ElastosError } from '@elastos/protocol/errors';
import type { ProtocolName, Protocols } from './protocols.js';
import type { RigFile } from './rig-file.js';

/**
 * An opened rig: the protocols its backend registered, the last commands it ran (for a failure
 * report), and how to close it. Closing stops every process the backend started, by pid.
 */
/** Where things are on the box, as the suite needs to name them in commands. */
export interface BoxInfo {
  /** The runtime's state directory (capsule packages live under it). */
  stateDir: string;
  /** The suite's capsule packages (hammer, asker), already on the box. */
  hilPackages: Record<'hammer' | 'asker', string>;
  /** How long a boot may take on this rig (ms): the bound of every wait for the runtime. */
  bootMs: number;
  /** How many power cuts the power-cut test makes here. */
  powerCuts: number;
  /** The MCU watchdog's period as the box is configured (ms): how long a hang takes to be reset. */
  watchdogMs: number;
  /**
   * How many times slower than the local rig one CLI call over SSH answers here: the suite's
   * bounds are written for the local rig and stretched by this (QEMU under TCG: Node starts in
   * seconds, and the host is shared).
   */
  slowdown: number;
  /** How long a request the rules leave to the admin or the button stays pending (broker.askTimeoutMs). */
  askWindowMs: number;
}

export class Rig {
  private readonly protocols = new Map<ProtocolName, Protocols[ProtocolName]>();
  private readonly closers: Array<() => Promise<void>> = [];
  readonly history: string[] = [];
  box: BoxInfo | undefined;

  constructor(readonly file: RigFile) {}

  get name(): string {
    return this.file.name;
  }

  /** A backend registers each protocol it implements. */
  register<K extends ProtocolName>(name: K, impl: Protocols[K]): void {
    this.protocols.set(name, impl);
  }

  has(name: ProtocolName): boolean {
    return this.protocols.has(name);
  }

  /** A protocol the test needs; a rig without it fails the test loudly (never a skip). */
  get<K extends ProtocolName>(name: K): Protocols[K] {
    const impl = this.protocols.get(name);
    if (!impl)
      throw new ElastosError('E_RIG_PROTOCOL', `rig ${this.name} (${this.file.backend}) has no ${name} protocol`);
    return impl as Protocols[K];
  }

  /** Remembers a command the rig ran (the last 20 go into a failure report). */
  note(line: string): void {
    this.history.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (this.history.length > 20) this.history.shift();
  }

  private readonly pidSources: Array<() => Array<number | undefined>> = [];

  /** Where the pids of the rig's processes are: killed at once if the process must exit before close(). */
  trackPids(source: () => Array<number | undefined>): void {
    this.pidSources.push(source);
  }

  /** Synchronous last resort (process exit): SIGKILL every process the rig still knows. */
  killNow(): void {
    for (const pid of this.pidSources.flatMap((s) => s())) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** A note that is also printed (timings of a rig's boots, between the tests' lines). */
  say(line: string): void {
    this.note(line);
    process.stdout.write(`      [${this.name}] ${line}\n`);
  }

  /** Runs on close, last registered first. */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) {
      await fn().catch((err: unknown) => process.stderr.write(`rig close: ${(err as Error).message}\n`));
    }
  }
}
