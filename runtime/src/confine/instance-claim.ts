import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ElastosError } from '../errors/index.js';
import { overlaps, readSubids, SUBID_FILES } from './subid.js';

/**
 * Runtime instances on one host (a production runtime, `npm start`, test runtimes) each own a
 * cgroup parent and a capsule uid range. Each running instance leaves a claim file in a host-wide
 * registry directory; a new instance refuses to start on a clash (E_CONFINE_INSTANCE) or on a
 * range the host delegated to users for their containers (E_CONFINE_UID_RANGE).
 */
export interface InstanceClaim {
  pid: number;
  /** Field 22 of /proc/PID/stat: tells a live claim from a reused pid. */
  startTime: string;
  cgroupParent: string;
  uidBase: number;
  uidCount: number;
  runDir: string;
}

export interface ClaimOptions {
  registryDir: string;
  cgroupParent: string;
  uidBase: number;
  uidCount: number;
  runDir: string;
  /** Defaults to /etc/subuid and /etc/subgid (capsule gid = uid). */
  subidFiles?: readonly string[];
  /** Capsule cgroups under this instance's parent that hold processes (a runtime that never claimed). */
  occupied?: () => string[];
}

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const isLive = (c: InstanceClaim) => processStartTime(c.pid) === c.startTime;
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A short exclusive section over the registry (a lock file; a dead holder's lock is broken). */
function withLock<T>(dir: string, fn: () => T): T {
  const lock = join(dir, '.lock');
  for (let i = 0; i < 500; i++) {
    try {
      const fd = openSync(lock, 'wx', 0o644);
      writeSync(fd, `${process.pid} ${processStartTime(process.pid)}\n`);
      closeSync(fd);
      try {
        return fn();
      } finally {
        rmSync(lock, { force: true });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pid, start] = readText(lock).trim().split(' ');
      if (pid && processStartTime(Number(pid)) !== start) rmSync(lock, { force: true });
      else sleep(10);
    }
  }
  throw new ElastosError('E_TIMEOUT', `the instance registry ${dir} stays locked`);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The live claims; a dead instance's claim (kill -9, power cut) is removed on the way. */
export function liveClaims(registryDir: string): InstanceClaim[] {
  const out: InstanceClaim[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(registryDir).filter((n) => n.endsWith('.json'));
  } catch {
    return out;
  }
  for (const name of names) {
    let claim: InstanceClaim;
    try {
      claim = JSON.parse(readText(join(registryDir, name))) as InstanceClaim;
    } catch {
      continue; // being written, or garbage: not a live claim
    }
    if (isLive(claim)) out.push(claim);
    else rmSync(join(registryDir, name), { force: true });
  }
  return out;
}

function checkSubids(o: ClaimOptions): void {
  for (const r of readSubids(o.subidFiles ?? SUBID_FILES)) {
    if (!overlaps(o.uidBase, o.uidCount, r.start, r.count)) continue;
    throw new ElastosError(
      'E_CONFINE_UID_RANGE',
      `capsule uids ${o.uidBase}+${o.uidCount} overlap ${r.owner}'s range ${r.start}+${r.count} in ${r.file}: set confine.uidBase elsewhere`,
    );
  }
}

function checkOthers(o: ClaimOptions, others: InstanceClaim[]): void {
  for (const c of others) {
    const what =
      c.cgroupParent === o.cgroupParent
        ? `its cgroup parent ${c.cgroupParent}`
        : overlaps(o.uidBase, o.uidCount, c.uidBase, c.uidCount)
          ? `capsule uids ${c.uidBase}+${c.uidCount}`
          : undefined;
    if (what)
      throw new ElastosError(
        'E_CONFINE_INSTANCE',
        `runtime pid ${c.pid} (run dir ${c.runDir}) already uses ${what}: give this instance its own confine.cgroupParent and confine.uidBase`,
      );
  }
  const busy = o.occupied?.() ?? [];
  if (busy.length > 0)
    throw new ElastosError(
      'E_CONFINE_INSTANCE',
      `cgroup parent ${o.cgroupParent} holds processes no registered runtime started (${busy[0]}): another instance uses it`,
    );
}

/** Checks and records this instance; returns its release (run at stop). */
export function claimInstance(o: ClaimOptions): () => void {
  checkSubids(o);
  try {
    mkdirSync(o.registryDir, { recursive: true, mode: 0o755 });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ElastosError(
      'E_CONFINE_INSTANCE',
      `cannot create the instance registry ${o.registryDir} (${why}): set confine.instancesDir to a writable directory`,
      { cause: err },
    );
  }
  const file = join(o.registryDir, `${process.pid}-${o.cgroupParent}.json`);
  const startTime = processStartTime(process.pid) ?? '';
  withLock(o.registryDir, () => {
    checkOthers(o, liveClaims(o.registryDir));
    const claim: InstanceClaim = { pid: process.pid, startTime, ...pick(o) };
    writeFileSync(file, `${JSON.stringify(claim)}\n`, { mode: 0o644 });
  });
  return () => rmSync(file, { force: true });
}

const pick = ({ cgroupParent, uidBase, uidCount, runDir }: ClaimOptions) => ({
  cgroupParent,
  uidBase,
  uidCount,
  runDir,
});
