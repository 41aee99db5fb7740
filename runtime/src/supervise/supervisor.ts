import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import type { ConfineContext } from '../confine/confine-context.js';
import type { CapsuleSpec, CapsuleUsage } from '../confine/types.js';
import { asElastosError, ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { CapsuleRun, RunExit } from './capsule-run.js';
import { CrashTracker, DEFAULT_RESTART_POLICY, type RestartPolicy } from './crash-policy.js';
import { dataVolume, grantedLan, privateNetwork, startRun } from './start-run.js';
import { UidPool } from './uid-pool.js';

export type CapsuleState = 'starting' | 'running' | 'backoff' | 'stopped' | 'crashloop';

export interface SupervisorOptions {
  log: Logger;
  audit?: AuditSink;
  restart?: Partial<RestartPolicy>;
  /** Wait this long after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** Capsule uids come from [uidBase, uidBase + uidCount). */
  uidBase?: number;
  uidCount?: number;
  tmpBytes?: number;
  /** Default disk quota of a capsule whose spec names none (data-volume.ts); absent or 0: none. */
  diskBytes?: number;
  /** How often a running capsule's limit counters are read (pids-limit hits are reported while it runs). */
  sampleMs?: number;
  /** Called with the runtime's end of each capsule run's channel (fd 3 in the capsule). */
  onChannel?: (capsuleName: string, socket: Socket) => void;
  /** Each line a capsule writes (after the log budget): the capsule logs of `elastos capsule logs`. */
  onOutput?: (capsuleName: string, stream: 'stdout' | 'stderr', line: string) => void;
}

export interface CapsuleStatus {
  name: string;
  id: string;
  state: CapsuleState;
  pid: number | null;
  uid: number;
  restarts: number;
  lastExit: Omit<RunExit, 'stderrTail'> | null;
  usage: CapsuleUsage | null;
  /** The running capsule's cgroup directories. */
  cgroup: string[];
}

interface Entry {
  spec: CapsuleSpec;
  uid: number;
  state: CapsuleState;
  run: CapsuleRun | null;
  crashes: CrashTracker;
  restarts: number;
  lastExit: RunExit | null;
  timer: NodeJS.Timeout | null;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Starts, stops and restarts confined capsules. Events: `channel` (name, socket) for each run,
 * `exit` (name, RunExit), `crashloop` (name, err), `limit` (name, LimitEvents) when a running capsule's
 * forks were refused by its pids limit (also audited as `capsule.limit`, E_CONFINE_PIDS).
 */
export class Supervisor extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  private readonly policy: RestartPolicy;
  private readonly uids: UidPool;
  private ctx: ConfineContext | null = null;
  private pending: Promise<ConfineContext> | null = null;

  /**
   * `confinement` is the prepared context, or a function preparing it on the first start (the
   * daemon's way: production then refuses capsules, not its own start, when a layer is missing).
   */
  constructor(
    private readonly confinement: ConfineContext | (() => Promise<ConfineContext>),
    private readonly opts: SupervisorOptions,
  ) {
    super();
    if (typeof confinement !== 'function') this.ctx = confinement;
    this.policy = { ...DEFAULT_RESTART_POLICY, ...opts.restart };
    this.uids = new UidPool(opts.uidBase ?? 1_900_000_000, opts.uidCount ?? 10_000);
  }

  /** The confinement context; a failed preparation (E_CONFINE_UNAVAILABLE) is retried on the next start. */
  private async context(): Promise<ConfineContext> {
    if (this.ctx) return this.ctx;
    if (typeof this.confinement !== 'function') return this.confinement;
    this.pending ??= this.confinement().finally(() => {
      this.pending = null;
    });
    this.ctx = await this.pending;
    return this.ctx;
  }

  /** Starts a capsule; resolves once its process is spawned (its channel is handed to onChannel). */
  async start(spec: CapsuleSpec): Promise<CapsuleStatus> {
    if (!NAME.test(spec.name)) throw new ElastosError('E_CAPSULE_INVALID', `bad capsule name ${spec.name}`);
    const ctx = await this.context();
    const existing = this.entries.get(spec.name);
    if (existing && existing.state !== 'stopped' && existing.state !== 'crashloop')
      throw new ElastosError('E_CAPSULE_EXISTS', `capsule ${spec.name} is already running`);
    const uid = spec.uid ?? this.uids.assign(spec.name);
    const entry: Entry = {
      spec,
      uid,
      state: 'starting',
      run: null,
      crashes: new CrashTracker(this.policy),
      restarts: 0,
      lastExit: null,
      timer: null,
    };
    this.entries.set(spec.name, entry);
    try {
      await this.launch(entry, ctx);
    } catch (err) {
      this.entries.delete(spec.name);
      throw err;
    }
    return this.statusOf(entry);
  }

  /**
   * One run: audited first (a start that cannot be recorded does not happen: E_AUDIT_WRITE), then
   * spawned unless a stop came in meanwhile.
   */
  private async launch(entry: Entry, ctx: ConfineContext): Promise<void> {
    const { spec } = entry;
    await this.opts.audit?.append({
      actor: 'runtime',
      type: 'capsule.start',
      resource: `capsule:${spec.name}`,
      details: { id: spec.id, uid: entry.uid, restarts: entry.restarts },
    });
    if (entry.state !== 'starting') return;
    await this.refusing(spec, async () => grantedLan(spec));
    const diskBytes = spec.limits.diskBytes ?? this.opts.diskBytes;
    const volume = diskBytes ? await this.refusing(spec, () => dataVolume(spec, entry.uid, diskBytes, ctx)) : undefined;
    const net = spec.network ? await this.refusing(spec, () => privateNetwork(spec, entry.uid, ctx)) : undefined;
    if (entry.state !== 'starting') {
      await net?.release(); // stopped while its network was being made
      return;
    }
    // Which LAN ranges this run reaches (policy granted them: network.lan records before it).
    if (net && net.lan.length > 0)
      await this.opts.audit
        ?.append({
          actor: 'runtime',
          type: 'network.lan.open',
          resource: `capsule:${spec.name}`,
          decision: 'allow',
          details: { id: spec.id, uid: entry.uid, ranges: net.lan },
        })
        .catch(async (err) => {
          await net.release(); // an opening that cannot be recorded does not stay open
          throw err;
        });
    const log = this.opts.log.child({ capsule: spec.name });
    const tmpBytes = this.opts.tmpBytes ?? 16 * 1024 * 1024;
    let run: CapsuleRun;
    try {
      run = startRun(spec, entry.uid, ctx, tmpBytes, this.outputOf(spec.name, log), net, volume);
    } catch (err) {
      await net?.release();
      throw err;
    }
    entry.run = run;
    entry.state = 'running';
    this.opts.onChannel?.(spec.name, run.channel);
    this.emit('channel', spec.name, run.channel);
    run.watchLimits(this.opts.sampleMs ?? 1000, (events) => {
      log.warn({ code: 'E_CONFINE_PIDS', ...events }, 'capsule hit its pids limit');
      const resource = `capsule:${spec.name}`;
      void this.audit({ type: 'capsule.limit', resource, code: 'E_CONFINE_PIDS', details: { ...events } });
      this.emit('limit', spec.name, events);
    });
    void run.exited.then((exit) => this.onExit(entry, run, exit));
  }

  /** A start the confinement cannot give is refused with its code, in the trail (`capsule.refused`). */
  private async refusing<T>(spec: CapsuleSpec, make: () => Promise<T>): Promise<T> {
    try {
      return await make();
    } catch (err) {
      const e = asElastosError(err);
      const details = { id: spec.id, message: e.message };
      await this.audit({
        type: 'capsule.refused',
        resource: `capsule:${spec.name}`,
        decision: 'deny',
        code: e.code,
        details,
      });
      throw e;
    }
  }

  /** Kept in the capsule's own log (`elastos capsule logs`); the runtime's log shows stderr only. */
  private outputOf(name: string, log: Logger): (stream: 'stdout' | 'stderr', line: string) => void {
    return (stream, line) => {
      if (stream === 'stderr') log.info({ stream }, line);
      else log.debug({ stream }, line);
      this.opts.onOutput?.(name, stream, line);
    };
  }

  private async onExit(entry: Entry, run: CapsuleRun, exit: RunExit): Promise<void> {
    if (entry.run !== run) return;
    entry.run = null;
    entry.lastExit = exit;
    const { name } = entry.spec;
    const log = this.opts.log.child({ capsule: name });
    if (exit.cause)
      log.error({ code: exit.cause, exit: exit.code, signal: exit.signal }, 'capsule killed by its confinement');
    await this.audit({
      type:
        exit.cause === 'E_CONFINE_OOM'
          ? 'capsule.oom'
          : exit.cause === 'E_CONFINE_PIDS'
            ? 'capsule.pids'
            : 'capsule.exit',
      resource: `capsule:${name}`,
      code: exit.cause,
      details: { exitCode: exit.code, signal: exit.signal, requested: exit.requested, ...exit.limitEvents },
    });
    this.emit('exit', name, exit);
    if (exit.requested || entry.state === 'stopped') {
      entry.state = 'stopped';
      return;
    }
    this.scheduleRestart(entry, log);
  }

  private scheduleRestart(entry: Entry, log: Logger): void {
    const delay = entry.crashes.onCrash(Date.now());
    const { name } = entry.spec;
    if (delay === null) {
      entry.state = 'crashloop';
      const err = new ElastosError(
        'E_CAPSULE_CRASHLOOP',
        `capsule ${name} crashed ${entry.crashes.recentCrashes} times`,
      );
      log.error({ code: err.code }, err.message);
      void this.audit({ type: 'capsule.crashloop', resource: `capsule:${name}`, code: err.code });
      this.emit('crashloop', name, err);
      return;
    }
    entry.state = 'backoff';
    log.warn({ delayMs: delay }, 'capsule exited; restarting after backoff');
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (entry.state !== 'backoff' || this.ctx === null) return;
      entry.restarts++;
      entry.state = 'starting';
      this.launch(entry, this.ctx).catch((err: unknown) => {
        log.error({ err }, 'restart failed');
        if (entry.state === 'starting') this.scheduleRestart(entry, log);
      });
    }, delay);
  }

  /** Stops a capsule (SIGTERM, then SIGKILL after the grace time); its cgroup is gone when this resolves. */
  async stop(name: string): Promise<void> {
    const entry = this.entryOf(name);
    entry.state = 'stopped';
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    const run = entry.run;
    if (run === null) return;
    const exit = await run.stop(this.opts.stopGraceMs ?? 2000);
    await this.onExit(entry, run, exit);
  }

  /** Stops and starts again, with a fresh crash history. */
  async restart(name: string): Promise<CapsuleStatus> {
    const entry = this.entryOf(name);
    await this.stop(name);
    entry.crashes.reset();
    return this.start(entry.spec);
  }

  /** Stops every capsule and removes the shared parent cgroup when nothing else uses it. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((n) => this.stop(n)));
    this.ctx?.cgroups.removeParent();
  }

  /** CPU, memory and pids of a running capsule, read from its cgroup. */
  usage(name: string): CapsuleUsage | null {
    return this.entryOf(name).run?.usage() ?? null;
  }

  status(name: string): CapsuleStatus {
    return this.statusOf(this.entryOf(name));
  }

  list(): CapsuleStatus[] {
    return [...this.entries.values()].map((e) => this.statusOf(e));
  }

  private entryOf(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new ElastosError('E_NOT_FOUND', `no capsule ${name}`);
    return entry;
  }

  private statusOf(e: Entry): CapsuleStatus {
    let lastExit: CapsuleStatus['lastExit'] = null;
    if (e.lastExit) {
      const { stderrTail: _tail, ...rest } = e.lastExit;
      lastExit = rest;
    }
    return {
      name: e.spec.name,
      id: e.spec.id,
      state: e.state,
      pid: e.run?.pid ?? null,
      uid: e.uid,
      restarts: e.restarts,
      lastExit,
      usage: e.run?.usage() ?? null,
      cgroup: e.run?.cgroup.dirs ?? [],
    };
  }

  private async audit(event: Omit<AuditEvent, 'actor'>): Promise<void> {
    try {
      await this.opts.audit?.append({ actor: 'runtime', ...event });
    } catch (err) {
      this.opts.log.error({ err, type: event.type }, 'audit append failed');
    }
  }
}
