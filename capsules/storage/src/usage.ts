/**
 * Who uses how much of storage (capsules/storage/README.md "Quota"): the whole store is bounded
 * by `quotaBytes`, and each caller by `callerQuotaBytes`, counting the files it wrote last and
 * its uploads in progress, so one caller cannot fill the room shared by all. File owners are
 * kept in storage's own state dir (outside the served tree), rewritten atomically on change.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapsuleError } from '@elastos/capsule-sdk';

interface Owned {
  caller: string;
  size: number;
}

export class Usage {
  /** Files and uploads in progress, all callers. */
  used = 0;
  private readonly owners = new Map<string, Owned>();
  private readonly perCaller = new Map<string, number>();

  constructor(
    private readonly stateDir: string,
    readonly quota: number,
    readonly callerQuota: number,
  ) {
    const path = join(stateDir, 'owners.json');
    const saved = existsSync(path) ? parseOwners(readFileSync(path, 'utf8')) : [];
    for (const [key, o] of saved) this.owners.set(key, o);
  }

  /** Bytes a caller holds: files it wrote and its staged uploads. */
  of(caller: string): number {
    return this.perCaller.get(caller) ?? 0;
  }

  /** Starts the count from the files found on disk; owners of files no longer there are dropped. */
  recount(files: Map<string, number>): void {
    this.used = 0;
    this.perCaller.clear();
    for (const [key, size] of files) {
      const caller = this.owners.get(key)?.caller ?? '';
      this.owners.set(key, { caller, size });
      this.add(caller, size);
    }
    for (const key of [...this.owners.keys()]) if (!files.has(key)) this.owners.delete(key);
    this.save();
  }

  /** Refuses a growth by `bytes` of `caller`'s usage over either quota; changes nothing then. */
  check(caller: string, bytes: number): void {
    if (bytes <= 0) return;
    if (this.used + bytes > this.quota)
      throw new CapsuleError('E_CAPSULE_QUOTA', `quota of ${this.quota} bytes is used up (${this.used} used)`);
    if (this.of(caller) + bytes > this.callerQuota)
      throw new CapsuleError(
        'E_CAPSULE_QUOTA',
        `${caller}'s share of ${this.callerQuota} bytes is used up (${this.of(caller)} used)`,
      );
  }

  add(caller: string, bytes: number): void {
    this.used += bytes;
    this.perCaller.set(caller, this.of(caller) + bytes);
  }

  /** A file at `key` now holds `size` bytes written by `caller` (or is gone, for undefined). */
  setFile(key: string, owned: Owned | undefined): void {
    const old = this.owners.get(key);
    if (old) this.add(old.caller, -old.size);
    if (owned) {
      this.owners.set(key, owned);
      this.add(owned.caller, owned.size);
    } else this.owners.delete(key);
    this.save();
  }

  private save(): void {
    const path = join(this.stateDir, 'owners.json');
    writeFileSync(`${path}.tmp`, JSON.stringify([...this.owners]));
    renameSync(`${path}.tmp`, path);
  }
}

/** The saved owners; a damaged file is refused (storage's own state, never served). */
function parseOwners(text: string): Array<[string, Owned]> {
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) throw new TypeError('not a list');
    return v.filter(
      (e): e is [string, Owned] =>
        Array.isArray(e) &&
        typeof e[0] === 'string' &&
        typeof e[1]?.caller === 'string' &&
        Number.isSafeInteger(e[1]?.size),
    );
  } catch {
    throw new CapsuleError('E_CONFIG_INVALID', 'storage state owners.json is damaged');
  }
}
