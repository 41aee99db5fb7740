/**
 * Runs the installed capsules (runtime/spec/capsule-package.md §7.3, boot.md, ipc.md): each is
 * re-verified from disk, measured into the TPM, then spawned confined by the supervisor (whose
 * `onChannel` hands the capsule's fd 3 to the broker, in the daemon's wiring). The shell starts first, then providers,
 * then apps. Output goes to a bounded log file per capsule. Mechanism only: what a capsule may
 * do is decided by the shell and enforced by the broker.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { asElastosError, ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { CapsuleLogs } from './capsule-logs.js';
import type { CapsuleManager, InstalledCapsule } from './capsule-manager.js';

/** What the supervisor (runtime/src/supervise) is given for one capsule. */
export interface RunSpec {
  name: string;
  id: string;
  codeDir: string;
  entry: string;
  dataDir: string;
  limits: { memoryBytes: number; pids: number; cpuPercent: number; diskBytes?: number };
  network: boolean;
  /** LAN ranges policy granted for this start (CapsuleHostOptions.grantLan); the rest stay closed. */
  lan?: string[];
  env: Record<string, string>;
  configFiles?: Array<{ host: string; view: string }>;
}

/** The supervisor as the host uses it (structurally `Supervisor` of runtime/src/supervise). */
export interface CapsuleRunner {
  start(spec: RunSpec): Promise<unknown>;
  stop(name: string): Promise<void>;
  list(): Array<{
    name: string;
    state: string;
    pid: number | null;
    restarts: number;
    lastExit: unknown;
    usage: unknown;
  }>;
}

export interface CapsuleHostOptions {
  manager: CapsuleManager;
  runner: CapsuleRunner;
  logs: CapsuleLogs;
  /** The runtime's Ed25519 public key: capsules get it (hex, `ELASTOS_RUNTIME_KEY`) to re-verify tokens. */
  runtimePublicKey?: Uint8Array;
  /** Extends the capsule's digest into the PCR and event log (boot.md); called before each spawn. */
  measure?: (name: string, id: string) => Promise<void>;
  /**
   * Policy's word on the LAN ranges a capsule's manifest names (the shell, asked by the broker:
   * runtime/spec/ipc.md §6.1): the granted subset, each decision audited. Absent: none is granted.
   */
  grantLan?: (capsule: string, ranges: string[]) => Promise<string[]>;
  log?: Logger;
}

/** Where the confined capsule sees its data dir (runtime/launcher/README.md, the view). */
export const CAPSULE_DATA_VIEW = '/capsule/data';
/** Where the shell reads the admin's rules (bound read-only from its host data dir). */
export const SHELL_RULES_VIEW = '/capsule/config/rules.json';
const ORDER: Record<string, number> = { shell: 0, provider: 1, app: 2 };

export interface CapsuleRow {
  name: string;
  version: string;
  id: string;
  type: string;
  state: string;
  pid: number | null;
  restarts: number;
  lastExit: unknown;
  usage: unknown;
  refused?: { code: string; message: string };
}

export class CapsuleHost {
  private readonly refused = new Map<string, { code: string; message: string }>();
  private readonly types = new Map<string, string>();

  constructor(private readonly opts: CapsuleHostOptions) {}

  /** Starts every installed capsule that re-verifies; a refused one is recorded (and audited by the manager). */
  async startAll(): Promise<{ started: string[]; refused: Array<{ name: string; code: string }> }> {
    const { capsules, refused } = await this.opts.manager.loadAll();
    for (const r of refused) this.refused.set(r.name, { code: r.code, message: r.message });
    capsules.sort((a, b) => (ORDER[a.manifest.type] ?? 3) - (ORDER[b.manifest.type] ?? 3));
    const started: string[] = [];
    for (const c of capsules) {
      try {
        await this.launch(c);
        started.push(c.name);
      } catch (err) {
        const e = asElastosError(err);
        this.refused.set(c.name, { code: e.code, message: e.message });
        this.opts.log?.error({ capsule: c.name, code: e.code }, e.message);
      }
    }
    return { started, refused: refused.map((r) => ({ name: r.name, code: r.code })) };
  }

  /** Re-verifies, measures and starts one capsule. */
  async start(name: string, actor = 'runtime'): Promise<CapsuleRow> {
    let c: InstalledCapsule;
    try {
      c = await this.opts.manager.loadInstalled(name, actor);
    } catch (err) {
      const e = asElastosError(err);
      if (e.code !== 'E_NOT_FOUND') this.refused.set(name, { code: e.code, message: e.message });
      throw e;
    }
    await this.launch(c);
    return this.row(name);
  }

  async stop(name: string): Promise<CapsuleRow> {
    if (!this.opts.runner.list().some((r) => r.name === name && r.state !== 'stopped' && r.state !== 'crashloop')) {
      throw new ElastosError('E_CAPSULE_NOT_RUNNING', `capsule ${name} is not running`);
    }
    await this.opts.runner.stop(name);
    return this.row(name);
  }

  async restart(name: string, actor = 'runtime'): Promise<CapsuleRow> {
    if (this.opts.runner.list().some((r) => r.name === name && r.state !== 'stopped'))
      await this.opts.runner.stop(name);
    return this.start(name, actor);
  }

  /** Installed capsules with their run state (`elastos status`, `capsule list`). */
  async status(): Promise<CapsuleRow[]> {
    const installed = await this.opts.manager.list();
    const runs = new Map(this.opts.runner.list().map((r) => [r.name, r]));
    return installed.map((c) => {
      const run = runs.get(c.name);
      const refused = this.refused.get(c.name);
      return {
        name: c.name,
        version: c.version,
        id: c.id,
        type: this.types.get(c.name) ?? '-',
        state: run?.state ?? (refused ? 'refused' : 'not started'),
        pid: run?.pid ?? null,
        restarts: run?.restarts ?? 0,
        lastExit: run?.lastExit ?? null,
        usage: run?.usage ?? null,
        ...(refused && !run ? { refused } : {}),
      };
    });
  }

  private async row(name: string): Promise<CapsuleRow> {
    const row = (await this.status()).find((r) => r.name === name);
    if (!row) throw new ElastosError('E_NOT_FOUND', `no capsule named ${name}`);
    return row;
  }

  private async launch(c: InstalledCapsule): Promise<void> {
    this.types.set(c.name, c.manifest.type);
    await this.opts.measure?.(c.name, c.id);
    // Named in the signed manifest is only asked for: policy grants each range, at every start.
    const lan = c.network && c.lan.length > 0 ? ((await this.opts.grantLan?.(c.name, c.lan)) ?? []) : [];
    await this.opts.runner.start(this.specOf(c, lan));
    this.refused.delete(c.name);
  }

  /** The supervisor's spec: limits from the signed manifest, a minimal environment, the LAN ranges granted. */
  specOf(c: InstalledCapsule, lan: string[] = []): RunSpec {
    const env: Record<string, string> = {
      ELASTOS_CAPSULE: c.name,
      ELASTOS_CAPSULE_ID: c.id,
      ELASTOS_DATA_DIR: CAPSULE_DATA_VIEW,
      TZ: 'UTC',
    };
    const key = this.opts.runtimePublicKey;
    if (key) env.ELASTOS_RUNTIME_KEY = Buffer.from(key).toString('hex');
    // The shell's rules live in its own data dir, where the admin puts them (capsules/shell/README.md);
    // bound read-only from there, as its data may be on its own volume (launcher README "Disk quota").
    const rules = join(c.dataDir, 'rules.json');
    const configFiles =
      c.manifest.type === 'shell' && existsSync(rules) ? [{ host: rules, view: SHELL_RULES_VIEW }] : [];
    if (configFiles.length > 0) env.ELASTOS_SHELL_RULES = SHELL_RULES_VIEW;
    return {
      name: c.name,
      id: c.id,
      codeDir: c.codeDir,
      entry: c.entry,
      dataDir: c.dataDir,
      limits: {
        memoryBytes: c.limits.memoryMiB * 1024 * 1024,
        pids: c.limits.pids,
        cpuPercent: c.limits.cpuPercent,
        // Absent: the supervisor's default (config confine.diskBytes).
        ...(c.limits.diskMiB !== undefined ? { diskBytes: c.limits.diskMiB * 1024 * 1024 } : {}),
      },
      network: c.network,
      ...(lan.length > 0 ? { lan } : {}),
      env,
      ...(configFiles.length > 0 ? { configFiles } : {}),
    };
  }
}
