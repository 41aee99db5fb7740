/**
 * Installs, lists, removes and rolls back capsules, and re-verifies them for the supervisor
 * (runtime/spec/capsule-package.md §7). Every operation re-reads the trust store, so a key
 * removed with `elastos trust remove` stops its capsules at the next start.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CapsuleManifest,
  compareVersions,
  lanRangesOf,
  NAME_PATTERN,
  type ResourceLimits,
} from '@elastos/protocol/capsules/manifest';
import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import { asElastosError, ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { BatchOp, Store } from '../store/index.js';
import { readVersion, removeTree, writeVersion } from './capsule-files.js';
import type { CapsuleIdentities } from './capsule-identity.js';
import { newInstallId } from './capsule-identity.js';
import { allRecords, delOp, getRecord, type IndexedVersion, type IndexRecord, putOp } from './capsule-index.js';
import { type VerifiedContent, verifyContent, verifyPackage } from './package-verify.js';
import { loadTrustStore } from './trust-store.js';

/** What the supervisor needs to start a verified capsule. */
export interface InstalledCapsule {
  name: string;
  id: string;
  version: string;
  publisher: string;
  /** Read-only code; `entry` is relative to it. */
  codeDir: string;
  entry: string;
  /** Private data, kept across upgrades and rollbacks. */
  dataDir: string;
  limits: ResourceLimits;
  /** Network access (manifest `network`: `true` or `{lan}`). */
  network: boolean;
  /** LAN ranges the manifest names (`network.lan`); policy grants each at start, or it stays closed. */
  lan: string[];
  manifest: CapsuleManifest;
}

/** The token side of a capsule's end (token.md §9.1): the TokenService in the daemon. */
export interface CapsuleTokens {
  /** Revokes every token held by or addressed to `capsule`; the ops join the index change's batch. */
  revokeCapsule(capsule: string): { ids: string[]; ops: BatchOp[] };
}

export interface CapsuleManagerOptions {
  stateDir: string;
  trustDir: string;
  store: Store;
  audit?: AuditSink;
  log?: Logger;
  /** Kept in step with the index: the identities tokens are bound to. */
  identities?: CapsuleIdentities;
  tokens?: CapsuleTokens;
}

export interface CapsuleSummary extends IndexedVersion {
  name: string;
  previous: IndexedVersion | null;
}

export class CapsuleManager {
  private readonly root: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: CapsuleManagerOptions) {
    this.root = join(opts.stateDir, 'capsules');
  }

  /** Verifies package bytes (or reads them: package-file.ts, refusals audited) and installs them (a new name, or a newer version of the same publisher's capsule). */
  install(bytes: Uint8Array | (() => Promise<Uint8Array>), actor = 'runtime'): Promise<CapsuleSummary> {
    return this.serial(async () => {
      let verified: VerifiedContent;
      let record: IndexRecord | undefined;
      try {
        if (typeof bytes === 'function') bytes = await bytes();
        verified = await verifyPackage(bytes, loadTrustStore(this.opts.trustDir));
        record = await getRecord(this.opts.store, verified.parsed.name);
        checkUpgrade(record, verified);
      } catch (err) {
        throw await this.refused(err, 'install', actor);
      }
      return this.commitInstall(verified, record, actor);
    });
  }

  private async commitInstall(
    v: VerifiedContent,
    old: IndexRecord | undefined,
    actor: string,
  ): Promise<CapsuleSummary> {
    const { name, version, publisher } = v.parsed;
    const nameDir = join(this.root, name);
    // A new name starts empty: leftovers of an interrupted remove never pass to another publisher.
    if (!old) removeTree(nameDir);
    mkdirSync(join(nameDir, 'data'), { recursive: true, mode: 0o700 });
    writeVersion(nameDir, v.id, v, v.signature);
    const current = { id: v.id, version, publisher, installedAt: new Date().toISOString() };
    // A new name is a new identity; an upgrade (same publisher) keeps it and its tokens.
    const installId = old ? old.installId : newInstallId();
    const record: IndexRecord = { name, current, previous: old?.current ?? null, ...(installId ? { installId } : {}) };
    // A new name inherits no token naming it (left by a remove made while no runtime ran).
    const revoked = old ? { ids: [], ops: [] } : this.revokeTokens(name);
    // No undefined fields: audit records are strict CBOR.
    const details = {
      name,
      id: v.id,
      version,
      publisher,
      ...(old ? { replaces: old.current.id } : {}),
      ...(revoked.ids.length > 0 ? { revokedTokens: revoked.ids } : {}),
    };
    const event = { type: 'capsule.install', details };
    await this.commit(actor, name, event, [putOp(this.opts.store, record), ...revoked.ops]);
    this.opts.identities?.set(record);
    if (old?.previous && old.previous.id !== v.id) removeTree(join(nameDir, old.previous.id));
    this.opts.log?.info({ name, id: v.id, version }, 'capsule installed');
    return { name, ...current, previous: record.previous };
  }

  async list(): Promise<CapsuleSummary[]> {
    const records = await allRecords(this.opts.store);
    return records.map((r) => ({ name: r.name, ...r.current, previous: r.previous }));
  }

  /** Removes a capsule: its index entry, every version and its data dir. */
  remove(name: string, actor = 'runtime'): Promise<{ name: string; id: string }> {
    return this.serial(async () => {
      const record = await this.record(name);
      // Its identity ends now: its tokens stop before the removal is even durable (fail closed).
      this.opts.identities?.delete(name);
      const revoked = this.revokeTokens(name);
      const details = {
        name,
        id: record.current.id,
        ...(revoked.ids.length > 0 ? { revokedTokens: revoked.ids } : {}),
      };
      await this.commit(actor, name, { type: 'capsule.remove', details }, [
        delOp(this.opts.store, name),
        ...revoked.ops,
      ]);
      removeTree(join(this.root, name));
      return { name, id: record.current.id };
    });
  }

  /** Returns to the previous version (re-verified first); the version left becomes the new previous. */
  rollback(name: string, actor = 'runtime'): Promise<CapsuleSummary> {
    return this.serial(async () => {
      const record = await this.record(name);
      const previous = record.previous;
      if (!previous) throw new ElastosError('E_CAPSULE_NO_PREVIOUS', `${name} has no previous version`);
      await this.verifyVersion(name, previous.id, 'rollback', actor);
      const next: IndexRecord = { ...record, current: previous, previous: record.current };
      const event = { type: 'capsule.rollback', details: { name, id: previous.id, from: record.current.id } };
      await this.commit(actor, name, event, [putOp(this.opts.store, next)]);
      return { name, ...next.current, previous: next.previous };
    });
  }

  /** Boot-time re-verification of the current version from disk (§7.3): hash, trust, signature. */
  async loadInstalled(name: string, actor = 'runtime'): Promise<InstalledCapsule> {
    const record = await this.record(name);
    const v = await this.verifyVersion(name, record.current.id, 'boot', actor);
    const { entry, limits, network, version, publisher } = v.parsed;
    const versionDir = join(this.root, name, v.id);
    const dataDir = join(this.root, name, 'data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return {
      name,
      id: v.id,
      version,
      publisher,
      codeDir: join(versionDir, 'code'),
      entry,
      dataDir,
      limits,
      network: network !== false,
      lan: lanRangesOf(v.parsed),
      manifest: v.parsed,
    };
  }

  /** Every installed capsule that re-verifies; the others are refused (and audited), not thrown. */
  async loadAll(
    actor = 'runtime',
  ): Promise<{ capsules: InstalledCapsule[]; refused: Array<{ name: string; code: string; message: string }> }> {
    const capsules: InstalledCapsule[] = [];
    const refused: Array<{ name: string; code: string; message: string }> = [];
    for (const record of await allRecords(this.opts.store)) {
      try {
        capsules.push(await this.loadInstalled(record.name, actor));
      } catch (err) {
        const e = asElastosError(err);
        refused.push({ name: record.name, code: e.code, message: e.message });
      }
    }
    return { capsules, refused };
  }

  private async verifyVersion(name: string, id: string, stage: string, actor: string): Promise<VerifiedContent> {
    try {
      const stored = readVersion(join(this.root, name, id));
      const v = await verifyContent(stored, id, stored.signature, loadTrustStore(this.opts.trustDir));
      if (v.parsed.name !== name)
        throw new ElastosError('E_CAPSULE_HASH', `${id} is capsule ${v.parsed.name}, not ${name}`);
      return v;
    } catch (err) {
      throw await this.refused(err, stage, actor, { name, id });
    }
  }

  private revokeTokens(name: string): { ids: string[]; ops: BatchOp[] } {
    return this.opts.tokens?.revokeCapsule(name) ?? { ids: [], ops: [] };
  }

  private async record(name: string): Promise<IndexRecord> {
    const record = new RegExp(NAME_PATTERN).test(name) ? await getRecord(this.opts.store, name) : undefined;
    if (!record) throw new ElastosError('E_NOT_FOUND', `no capsule named ${JSON.stringify(name)} is installed`);
    return record;
  }

  /** Makes the index change durable, inside the audit append's batch when there is an audit sink. */
  private async commit(actor: string, name: string, event: Omit<AuditEvent, 'actor'>, ops: BatchOp[]): Promise<void> {
    const full: AuditEvent = { actor, resource: `capsule:${name}`, decision: 'allow', ...event };
    if (this.opts.audit) await this.opts.audit.append(full, ops);
    else await this.opts.store.batch(ops, { sync: true });
  }

  /** Audits a refusal (`capsule.refused` with its code) and returns the error to throw. */
  private async refused(
    err: unknown,
    stage: string,
    actor: string,
    details: Record<string, unknown> = {},
  ): Promise<ElastosError> {
    const e = asElastosError(err);
    this.opts.log?.warn({ code: e.code, stage, ...details }, e.message);
    if (!e.code.startsWith('E_CAPSULE_')) return e;
    const event: AuditEvent = {
      actor,
      type: 'capsule.refused',
      decision: 'deny',
      code: e.code,
      details: { stage, ...details, message: e.message },
    };
    if (typeof details.name === 'string') event.resource = `capsule:${details.name}`;
    try {
      await this.opts.audit?.append(event);
    } catch (auditErr) {
      this.opts.log?.error({ code: asElastosError(auditErr).code }, 'could not audit a capsule refusal');
    }
    return e;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** A name already installed accepts only a strictly newer version from the same publisher (§7.1). */
function checkUpgrade(record: IndexRecord | undefined, v: VerifiedContent): void {
  if (!record) return;
  const { name, version, publisher } = v.parsed;
  const cur = record.current;
  if (cur.id === v.id) throw new ElastosError('E_CAPSULE_EXISTS', `${name} ${version} (${v.id}) is already installed`);
  if (cur.publisher !== publisher) {
    throw new ElastosError(
      'E_CAPSULE_EXISTS',
      `${name} is installed from publisher ${cur.publisher}, not ${publisher}`,
    );
  }
  if (compareVersions(version, cur.version) <= 0) {
    throw new ElastosError(
      'E_CAPSULE_EXISTS',
      `${name} ${cur.version} is installed; ${version} is not newer (use rollback)`,
    );
  }
}
