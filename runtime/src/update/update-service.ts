/**
 * `update install/status/undo` (runtime/spec/update.md §5): the runtime checks a bundle (signature,
 * compatible, version above the floor) and asks RAUC's D-Bus service to write it; every step is an
 * audit record (`update.installed`, `update.refused`, `update.booted`, `update.good`,
 * `update.rolled-back`, `update.undo`). The runtime stays sandboxed: RAUC (root, outside
 * elastosd's sandbox) writes the slot and renames the ESP entries through its custom backend.
 */
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuditSink } from '../audit/audit-sink.js';
import type { ElastosConfig } from '../config/index.js';
import { asElastosError, ElastosError } from '../errors/index.js';
import { checkBundle, lastLine, runRauc, systemCompatible } from './bundle-check.js';
import { nextSlot, readSlots, type SlotName, type SlotStatus } from './slots.js';
import type { Floor } from './version-floor.js';

export interface UpdateStatus {
  booted?: SlotName;
  next?: SlotName;
  /** The version floor (undefined without a TPM: dev profile). */
  floor?: number;
  slots: SlotStatus[];
  /** The last install not yet judged good or rolled back. */
  pending?: Pending;
}

interface Pending {
  slot: SlotName;
  version: number;
  from?: SlotName;
  /** Set once the runtime came up on the new slot. */
  booted?: boolean;
}

export class UpdateService {
  private readonly dir: string;

  constructor(
    private readonly config: ElastosConfig,
    private readonly audit: AuditSink,
    private readonly floor: Floor | undefined,
  ) {
    this.dir = join(config.stateDir, 'update');
  }

  private get u() {
    return this.config.update;
  }

  private requireSlots(): void {
    if (!existsSync(this.u.systemConf))
      throw new ElastosError(
        'E_UPDATE_UNAVAILABLE',
        `no RAUC config at ${this.u.systemConf}: this system has no A/B slots`,
      );
  }

  private slots(): SlotStatus[] {
    return readSlots(this.u.esp, readFileSync(this.u.cmdline, 'utf8'));
  }

  private pending(): Pending | undefined {
    const f = join(this.dir, 'pending.json');
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Pending) : undefined;
  }

  private setPending(p: Pending | undefined): void {
    const f = join(this.dir, 'pending.json');
    if (!p) {
      rmSync(f, { force: true });
      return;
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${f}.tmp`, JSON.stringify(p));
    renameSync(`${f}.tmp`, f); // whole or not at all
  }

  async status(): Promise<UpdateStatus> {
    this.requireSlots();
    const slots = this.slots();
    const booted = slots.find((s) => s.booted)?.slot;
    const next = nextSlot(slots);
    const floor = this.floor ? await this.floor.read() : undefined;
    const pending = this.pending();
    return {
      ...(booted ? { booted } : {}),
      ...(next ? { next } : {}),
      ...(floor === undefined ? {} : { floor }),
      slots,
      ...(pending ? { pending } : {}),
    };
  }

  /**
   * Copies the bundle into the runtime's own directory first (root, 0600): what is checked is
   * what RAUC installs, whatever the dropper does to its file afterwards. Then checks, then installs.
   */
  async install(file: string, actor: string, progress: (done: number, total: number) => void) {
    this.requireSlots();
    let staged: string | undefined;
    try {
      staged = this.stage(file);
      progress(1, 3);
      const m = await checkBundle(this.u.rauc, staged, this.u.keyring, systemCompatible(this.u.systemConf));
      await this.refuseOlder(m.version);
      progress(2, 3);
      const slots = this.slots();
      const from = slots.find((s) => s.booted)?.slot;
      const r = await runRauc(this.u.rauc, ['install', staged]);
      if (r.code !== 0)
        throw new ElastosError('E_UPDATE_INSTALL', `rauc install: ${lastLine(`${r.stdout}\n${r.stderr}`)}`);
      const slot = nextSlot(this.slots());
      if (!slot || slot === from)
        throw new ElastosError('E_UPDATE_INSTALL', 'rauc installed, but the new slot is not the next to boot');
      this.setPending({ slot, version: m.version, ...(from ? { from } : {}) });
      const details = {
        slot,
        version: m.version,
        ...(from ? { from } : {}),
        ...(m.signer ? { signer: m.signer } : {}),
      };
      await this.audit.append({
        actor,
        type: 'update.installed',
        resource: `slot:${slot}`,
        decision: 'allow',
        details,
      });
      progress(3, 3);
      return { installed: true, slot, version: m.version, reboot: 'the new slot boots at the next reboot' };
    } catch (err) {
      const e = asElastosError(err);
      const details = { file, message: e.message };
      await this.audit.append({ actor, type: 'update.refused', decision: 'deny', code: e.code, details });
      throw e;
    } finally {
      if (staged) rmSync(staged, { force: true });
      if (file.startsWith(`${this.u.inboxDir}/`)) rmSync(file, { force: true });
    }
  }

  private stage(file: string): string {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(file); // a symlink is not followed (root copies what it names)
    } catch (cause) {
      throw new ElastosError('E_UPDATE_FETCH', `cannot read ${file}`, { cause });
    }
    if (!st.isFile()) throw new ElastosError('E_UPDATE_FETCH', `${file} is not a regular file`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const staged = join(this.dir, 'staged.raucb');
    rmSync(staged, { force: true });
    copyFileSync(file, staged);
    chmodSync(staged, 0o600);
    return staged;
  }

  /** Older than the floor, or not newer than the booted release: refused (§4). */
  private async refuseOlder(version: number): Promise<void> {
    const floor = this.floor ? await this.floor.read() : 0;
    const running = this.slots().find((s) => s.booted)?.version ?? 0;
    if (version <= floor || version <= running)
      throw new ElastosError(
        'E_UPDATE_ROLLBACK',
        `version ${version} is not above the floor ${floor} and the running ${running}`,
      );
  }

  /** Boot the other slot next: cancels an install not yet booted, or goes back to the older slot. */
  async undo(actor: string) {
    this.requireSlots();
    const slots = this.slots();
    const booted = slots.find((s) => s.booted);
    const other = slots.find((s) => !s.booted && s.state !== 'empty');
    if (!booted || !other) throw new ElastosError('E_UPDATE_NO_SLOT', 'no other slot with a boot entry');
    // A newer install waiting to boot is marked bad; otherwise the other slot becomes primary.
    const args = nextSlot(slots) === other.slot ? ['status', 'mark-bad', 'other'] : ['status', 'mark-active', 'other'];
    const r = await runRauc(this.u.rauc, args);
    if (r.code !== 0) throw new ElastosError('E_UPDATE_INSTALL', `rauc ${args.join(' ')}: ${lastLine(r.stderr)}`);
    const next = nextSlot(this.slots());
    this.setPending(undefined);
    const details = { from: booted.slot, next, how: args[1] };
    await this.audit.append({ actor, type: 'update.undo', resource: `slot:${next}`, decision: 'allow', details });
    return { next, slots: this.slots() };
  }

  /**
   * At start and after systemd-bless-boot (`update.confirm`): the booted slot against the last
   * install. Booted on it: `update.booted`; blessed: `update.good` and the floor raised to its
   * version; the install's slot out of tries while the other booted: `update.rolled-back`.
   */
  async reconcile(): Promise<UpdateStatus | undefined> {
    if (!existsSync(this.u.systemConf) || !existsSync(join(this.u.esp, 'EFI', 'Linux'))) return undefined;
    const slots = this.slots();
    const booted = slots.find((s) => s.booted);
    const p = this.pending();
    if (p && booted?.slot === p.slot && !p.booted) {
      this.setPending({ ...p, booted: true });
      await this.record('update.booted', p.slot, { version: p.version });
    }
    if (p && booted && booted.slot !== p.slot && slots.find((s) => s.slot === p.slot)?.state === 'bad') {
      this.setPending(undefined);
      await this.record('update.rolled-back', p.slot, { version: p.version, booted: booted.slot });
    }
    if (booted?.state === 'good' && this.floor) {
      const before = await this.floor.read();
      const after = booted.version > before ? await this.floor.raiseTo(booted.version) : before;
      if (p && p.slot === booted.slot) {
        this.setPending(undefined);
        await this.record('update.good', booted.slot, { version: booted.version, floor: after });
      } else if (after > before) await this.record('update.floor', booted.slot, { floor: after });
    }
    return this.status();
  }

  private async record(type: string, slot: SlotName, details: Record<string, unknown>): Promise<void> {
    await this.audit.append({ actor: 'runtime', type, resource: `slot:${slot}`, details });
  }

  /** The inbox an admin's CLI drops a bundle into (group elastos-admin, setgid, 02770). */
  prepareInbox(gid: number | undefined): void {
    mkdirSync(dirname(this.u.inboxDir), { recursive: true });
    mkdirSync(this.u.inboxDir, { recursive: true, mode: 0o2770 });
    if (gid !== undefined && process.getuid?.() === 0) chownSync(this.u.inboxDir, 0, gid);
    chmodSync(this.u.inboxDir, 0o2770);
  }
}
