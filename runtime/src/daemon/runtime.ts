import type { Socket } from 'node:net';
import { join } from 'node:path';
import { type AdminPeer, AdminServer } from '../admin/index.js';
import type { AuditSink } from '../audit/audit-sink.js';
import { AuditLog } from '../audit/index.js';
import { type BoardService, startBoard } from '../board/index.js';
import type { Broker } from '../broker/broker.js';
import { startBroker } from '../broker/start.js';
import { CapsuleManager, registerCapsuleAdmin } from '../capsules/index.js';
import type { ElastosConfig } from '../config/index.js';
import { ElastosError } from '../errors/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import { SeedKey } from '../keys/seed-key.js';
import type { Logger } from '../log/index.js';
import { Store } from '../store/index.js';
import { RUNTIME_VERSION } from '../version.js';
import { acquireRunLock } from './run-lock.js';

/**
 * Interim peer check until SO_PEERCRED lands (admin CLI issue): the socket's 0660 mode and its
 * directory's 0750 mode are the guard, and the peer is recorded as unknown (-1).
 */
function permissionOnlyPeerCheck(_socket: Socket): AdminPeer {
  return { uid: -1, gid: -1, pid: -1 };
}

/** The runtime's lifetime: start in order, stop in reverse order, nothing left behind. */
export class Runtime {
  private readonly stops: Array<() => Promise<void> | void> = [];
  private readonly startedAt = new Date();
  store: Store | undefined;
  admin: AdminServer | undefined;
  /** Set by the audit subsystem when it starts; subsystems started after it audit through it. */
  audit: AuditSink | undefined;
  board: BoardService | undefined;
  capsules: CapsuleManager | undefined;
  /** The runtime key: the TPM-sealed one once the TPM subsystem sets it; else the dev seed key. */
  key: RuntimeKey | undefined;
  broker: Broker | undefined;

  constructor(
    readonly config: ElastosConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.stops.push(acquireRunLock(this.config.runDir));
    const store = await Store.open(join(this.config.stateDir, 'store'));
    this.store = store;
    this.stops.push(() => store.close());

    const admin = new AdminServer(this.config.admin.socket, this.log, permissionOnlyPeerCheck);
    admin.register('version', () => ({ version: RUNTIME_VERSION }));
    admin.register('status', () => this.status());
    const { stateDir, trustDir } = this.config;
    this.capsules = new CapsuleManager({ stateDir, trustDir, store, log: this.log });
    registerCapsuleAdmin(admin, this.capsules);
    await this.startTokens(store, admin);
    await admin.listen();
    this.admin = admin;
    this.stops.push(() => admin.close());

    // The board MCU (firmware-bridge/README.md): loaded only when a serial device is configured.
    if (this.config.serial.path !== '') {
      const board = await startBoard({ serial: this.config.serial, log: this.log, audit: this.audit });
      this.board = board;
      this.stops.push(() => board.stop());
      admin.register('board.status', () => board.status());
      board.onLongPress(() => void this.broker?.shell.presence().catch((err) => this.log.warn({ err }, 'presence')));
    }
    this.log.info({ socket: this.config.admin.socket, profile: this.config.profile }, 'runtime ready');
  }

  /** Tokens and the broker (runtime/spec/token.md, ipc.md); audited through the AuditLog. */
  private async startTokens(store: Store, admin: AdminServer): Promise<void> {
    if (!this.audit) {
      const log = await AuditLog.open(store);
      this.audit = log;
      this.stops.push(() => log.close());
    }
    if (!this.key && this.config.profile === 'production') {
      throw new ElastosError('E_TPM_NOT_PROVISIONED', 'no runtime key: the production profile never uses a dev key');
    }
    this.key ??= await SeedKey.loadOrCreate(store);
    const { broker, stop } = await startBroker({
      config: this.config,
      store,
      admin,
      audit: this.audit,
      key: this.key,
      log: this.log,
    });
    this.broker = broker;
    this.stops.push(stop);
  }

  status(): Record<string, unknown> {
    return {
      version: RUNTIME_VERSION,
      profile: this.config.profile,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      stateDir: this.config.stateDir,
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
