import type { Socket } from 'node:net';
import { join } from 'node:path';
import { AdminServer, adminGroupPolicy, lookupGroup } from '../admin/index.js';
import { type AuditLog, openRuntimeAudit, registerAuditAdmin } from '../audit/index.js';
import { type BoardService, startBoard } from '../board/index.js';
import { registerTpmCommands } from '../boot/tpm-admin.js';
import { type BootedRuntime, bootRuntime } from '../boot/tpm-boot.js';
import type { Broker } from '../broker/broker.js';
import { grantLanRanges } from '../broker/lan-grant.js';
import { startBroker } from '../broker/start.js';
import {
  CapsuleHost,
  CapsuleIdentities,
  CapsuleLogs,
  CapsuleManager,
  registerCapsuleAdmin,
  registerCapsuleHostAdmin,
  registerTrustAdmin,
} from '../capsules/index.js';
import type { ElastosConfig } from '../config/index.js';
import { BUNDLED_LAUNCHER, claimInstance, detectCgroupDriver, doctorReport } from '../confine/index.js';
import { capsuleHealthOf, HealthSampler } from '../health/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { Logger } from '../log/index.js';
import { Store } from '../store/index.js';
import { type Supervisor, supervisorFromConfig } from '../supervise/index.js';
import { verifyTokenState } from '../tokens/token-state-check.js';
import { startUpdates } from '../update/start.js';
import { RUNTIME_VERSION } from '../version.js';
import { prepareRunDir } from './run-dir.js';
import { acquireRunLock } from './run-lock.js';

export interface RuntimeOptions {
  /** elastosd `--insecure-no-tpm` (dev profile only). */
  insecureNoTpm?: boolean;
}

/** The runtime's lifetime: start in order, stop in reverse order, nothing left behind. */
export class Runtime {
  private readonly stops: Array<() => Promise<void> | void> = [];
  private readonly startedAt = new Date();
  /** True once the installed capsules were started at boot (a client that starts capsules waits for it). */
  private ready = false;
  store: Store | undefined;
  admin: AdminServer | undefined;
  /** The audit trail (an AuditSink), open from just after boot until stop. */
  audit: AuditLog | undefined;
  /** Starts and stops capsules (the capsule room wires verified packages into it). */
  supervisor: Supervisor | undefined;
  health: HealthSampler | undefined;
  /** The measured boot: the TPM, `measureCapsule`, `attest`, `nvAnchor`, `attachAudit` (runtime/spec/boot.md). */
  boot: BootedRuntime | undefined;
  /** The runtime's signing key, unsealed from the TPM at boot (before the audit trail opens). */
  key: RuntimeKey | undefined;
  board: BoardService | undefined;
  capsules: CapsuleManager | undefined;
  /** Every capsule message passes here (runtime/spec/ipc.md); tokens are checked and audited. */
  broker: Broker | undefined;
  /** Runs the installed capsules through the supervisor (capsules/README.md). */
  host: CapsuleHost | undefined;

  constructor(
    readonly config: ElastosConfig,
    private readonly log: Logger,
    private readonly options: RuntimeOptions = {},
  ) {}

  async start(): Promise<void> {
    const adminGid = lookupGroup(this.config.admin.group)?.gid;
    this.stops.push(acquireRunLock(this.config.runDir));
    this.stops.push(this.claimInstance());
    prepareRunDir(this.config.runDir, adminGid, this.log); // only once the run directory is ours
    const store = await Store.open(join(this.config.stateDir, 'store'));
    this.store = store;
    this.stops.push(() => store.close());
    const boot = await bootRuntime({ ...this.options, config: this.config, store, log: this.log });
    this.boot = boot;
    this.key = boot.key;
    this.stops.push(() => boot.close());
    // The trail needs the key, so it opens after boot; boot's waiting events are appended first.
    const { nvExtendIndex: extendIndex, nvCounterIndex: counterIndex } = this.config.audit;
    const anchor = boot.insecure ? undefined : await boot.nvAnchor({ extendIndex, counterIndex });
    const audit = await openRuntimeAudit(store, this.config, this.log, boot.key, anchor);
    this.audit = audit.log;
    this.stops.push(() => audit.log.close()); // flush + final checkpoint, before the TPM and the store close
    await boot.attachAudit(audit.log);

    const health = this.startHealth();
    const admin = this.adminServer(adminGid, audit.log, health);
    registerTpmCommands(admin, this.config, store, boot);
    registerAuditAdmin(admin, { ...audit, publicKey: boot.key.publicKey, stateChecks: [verifyTokenState] });
    const { stateDir, trustDir } = this.config;
    // Tokens are bound to installed identities; removing a capsule revokes its tokens (token.md §2.1, §9.1).
    const identities = await CapsuleIdentities.load(store);
    const deps = { config: this.config, store, admin, audit: audit.log, key: boot.key, log: this.log };
    const epochCounter = await boot.nvCounter(this.config.tokens.nvEpochIndex);
    const { broker, stop: stopBroker } = await startBroker({
      ...deps,
      identities: (n) => identities.get(n),
      ...(epochCounter ? { epochCounter } : {}),
    });
    this.broker = broker;
    this.stops.push(stopBroker);
    const manage = { stateDir, trustDir, store, log: this.log, audit: audit.log, identities, tokens: broker.tokens };
    this.capsules = new CapsuleManager(manage);
    registerCapsuleAdmin(admin, this.capsules);
    registerTrustAdmin(admin, trustDir, audit.log);
    await startUpdates({ config: this.config, admin, audit: audit.log, boot, log: this.log, adminGid });
    await admin.listen();
    this.admin = admin;
    this.stops.push(() => admin.close());

    // Capsules (capsules/README.md): verified, measured, spawned; output to bounded per-capsule logs.
    // Each capsule's fd 3 goes to the broker; a capsule the broker stops (flood, garbage) is stopped.
    const onChannel = (name: string, socket: Socket) => {
      try {
        broker.attach(name, socket);
      } catch (err) {
        this.log.error({ err, capsule: name }, 'channel refused');
        socket.destroy();
      }
    };
    const logs = new CapsuleLogs(join(stateDir, 'logs', 'capsules'));
    const supervisor = supervisorFromConfig(this.config, this.log, {
      audit: this.audit,
      onChannel,
      onOutput: (name, stream, line) => logs.append(name, stream, line),
    });
    broker.onStopped((name) => void supervisor.stop(name).catch((err) => this.log.warn({ err }, 'stop')));
    this.supervisor = supervisor;
    this.stops.push(() => supervisor.stopAll());
    const measure = (name: string, id: string) => boot.measureCapsule(name, id);
    const runtimePublicKey = boot.key.publicKey;
    const host = new CapsuleHost({
      manager: this.capsules,
      runner: supervisor,
      logs,
      measure,
      runtimePublicKey,
      // The shell decides each LAN range a manifest names (runtime/spec/ipc.md §6.1).
      grantLan: (capsule, ranges) => grantLanRanges(broker, capsule, ranges),
      log: this.log,
    });
    this.host = host;
    registerCapsuleHostAdmin(admin, host, logs);
    admin.register('supervise.list', () => supervisor.list(), { audit: false });
    health.setCapsuleSource(() => capsuleHealthOf(supervisor.list()));
    admin.register('confine.doctor', () => doctorReport(this.config.confine.launcher || BUNDLED_LAUNCHER), {
      audit: false,
    });
    // The board MCU (firmware-bridge/README.md): started only when a serial device is configured.
    if (this.config.serial.path !== '') {
      const board = await startBoard({ serial: this.config.serial, log: this.log, audit: this.audit });
      this.board = board;
      this.stops.push(() => board.stop());
      admin.register('board.status', () => board.status(), { audit: false });
      // The LED names the request the button answers now (its blink code, as `elastos requests` prints).
      this.stops.push(broker.shell.desk.onShow((shown) => board.showRequest(shown?.code ?? 0)));
      board.onLongPress(
        // Stamped with the runtime's own clock on arrival: the desk's windows are in that time base,
        // while the board's `now()` may be the MCU's RTC (an untrusted system clock).
        (press) =>
          void broker.shell
            .presence({ at: Date.now(), durationMs: press.durationMs })
            .catch((err) => this.log.warn({ err }, 'presence')),
      );
    }
    const capsules = await host.startAll();
    this.ready = true;
    this.log.info({ socket: this.config.admin.socket, profile: this.config.profile, capsules }, 'runtime ready');
  }

  /** This instance's cgroup parent and capsule uids, checked against the host and other instances. */
  private claimInstance(): () => void {
    const { cgroupParent, uidBase, uidCount, instancesDir } = this.config.confine;
    const occupied = () => detectCgroupDriver(cgroupParent).occupied();
    const { runDir } = this.config;
    const release = claimInstance({ registryDir: instancesDir, cgroupParent, uidBase, uidCount, runDir, occupied });
    this.log.debug({ cgroupParent, uidBase, uidCount }, 'instance claimed');
    return release;
  }

  private startHealth(): HealthSampler {
    const health = new HealthSampler(this.config.health.intervalMs, this.log);
    health.start();
    this.health = health;
    this.stops.push(() => health.stop());
    return health;
  }

  /** The admin socket (runtime/spec/admin.md): root and the admin group, each command audited. */
  private adminServer(adminGid: number | undefined, audit: AuditLog, health: HealthSampler): AdminServer {
    const policy = adminGroupPolicy({ group: this.config.admin.group });
    const admin = new AdminServer(this.config.admin.socket, this.log, policy, { socketGid: adminGid, audit });
    admin.register('version', () => ({ version: RUNTIME_VERSION }), { audit: false });
    admin.register('status', () => this.status(), { audit: false });
    admin.register('health', () => health.latest(), { audit: false });
    return admin;
  }

  async status(): Promise<Record<string, unknown>> {
    return {
      version: RUNTIME_VERSION,
      profile: this.config.profile,
      pid: process.pid,
      ready: this.ready,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      stateDir: this.config.stateDir,
      capsules: (await this.host?.status()) ?? [],
    };
  }

  async stop(): Promise<void> {
    while (this.stops.length > 0) {
      const stop = this.stops.pop();
      try {
        await stop?.();
      } catch (err) {
        this.log.error({ err }, 'error while stopping');
      }
    }
    this.log.info('runtime stopped');
  }
}
