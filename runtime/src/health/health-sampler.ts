import { loadavg } from 'node:os';
import si from 'systeminformation';
import { ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';

const SAMPLE_TIMEOUT_MS = 10_000;

/** One running capsule's resource use from its cgroup, as `elastos health` shows it. */
export interface CapsuleHealth {
  id: string;
  name?: string;
  memoryBytes?: number;
  pids?: number;
  cpuUsageUsec?: number;
}

export type CapsuleHealthSource = () => CapsuleHealth[] | Promise<CapsuleHealth[]>;

/** The supervisor's list (`Supervisor.list()`) as health rows: running capsules with cgroup readings. */
export function capsuleHealthOf(
  list: Array<{ name: string; id: string; usage: { memoryBytes: number; pids: number; cpuUsec: number } | null }>,
): CapsuleHealth[] {
  return list.flatMap(({ name, id, usage }) =>
    usage ? [{ id, name, memoryBytes: usage.memoryBytes, pids: usage.pids, cpuUsageUsec: usage.cpuUsec }] : [],
  );
}

/** What `elastos health` shows: the last sample, never a fresh (slow) measurement. */
export interface HealthReading {
  sampledAt: string;
  cpu: { temperatureC: number | null; loadPercent: number; loadAverage: [number, number, number]; cores: number };
  memory: {
    totalBytes: number;
    usedBytes: number;
    availableBytes: number;
    swapTotalBytes: number;
    swapUsedBytes: number;
  };
  disks: Array<{ mount: string; fs: string; type: string; sizeBytes: number; usedBytes: number; usePercent: number }>;
  capsules: CapsuleHealth[];
}

/**
 * Samples temperature, load, memory and disks on a timer and serves the last reading
 * (FACTS.md: cpuTemperature spawns, ~15 ms; the first currentLoad takes ~0.5 s).
 */
export class HealthSampler {
  private timer: NodeJS.Timeout | undefined;
  private last: HealthReading | undefined;
  private inFlight: Promise<HealthReading> | undefined;
  private capsules: CapsuleHealthSource = () => [];

  constructor(
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** The supervisor plugs per-capsule cgroup usage in here. */
  setCapsuleSource(source: CapsuleHealthSource): void {
    this.capsules = source;
  }

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined);
  }

  /** The last reading; only before the first sample completes does this wait for it. */
  async latest(): Promise<HealthReading> {
    return this.last ?? (await (this.inFlight ?? this.sample()));
  }

  private sample(): Promise<HealthReading> {
    if (this.inFlight) return this.inFlight;
    let timer: NodeJS.Timeout | undefined;
    // A hung probe (df on a dead mount) must not hang `elastos health`: give up, keep the last reading.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ElastosError('E_TIMEOUT', 'health sample took too long')), SAMPLE_TIMEOUT_MS);
    });
    const run = Promise.race([this.measure(), timeout])
      .then((reading) => {
        this.last = reading;
        return reading;
      })
      .catch((err: unknown) => {
        this.log.warn({ err }, 'health sample failed');
        throw err;
      })
      .finally(() => {
        clearTimeout(timer);
        this.inFlight = undefined;
      });
    run.catch(() => undefined);
    this.inFlight = run;
    return run;
  }

  private async measure(): Promise<HealthReading> {
    const [temp, load, mem, disks, capsules] = await Promise.all([
      si.cpuTemperature(),
      si.currentLoad(),
      si.mem(),
      si.fsSize(),
      Promise.resolve(this.capsules()),
    ]);
    const [a1, a5, a15] = loadavg();
    return {
      sampledAt: new Date().toISOString(),
      cpu: {
        temperatureC: typeof temp.main === 'number' ? temp.main : null,
        loadPercent: Math.round(load.currentLoad * 10) / 10,
        loadAverage: [a1 ?? 0, a5 ?? 0, a15 ?? 0],
        cores: load.cpus.length,
      },
      memory: {
        totalBytes: mem.total,
        usedBytes: mem.total - mem.available,
        availableBytes: mem.available,
        swapTotalBytes: mem.swaptotal,
        swapUsedBytes: mem.swapused,
      },
      disks: disks.map((d) => ({
        mount: d.mount,
        fs: d.fs,
        type: d.type,
        sizeBytes: d.size,
        usedBytes: d.used,
        usePercent: d.use,
      })),
      capsules,
    };
  }
}
