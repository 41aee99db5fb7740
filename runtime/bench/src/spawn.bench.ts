/**
 * Benchmark: spawn-to-first-IPC-message of a confined capsule (Supervisor.start through the real
 * launcher: cgroup, namespaces, view, seccomp, Node's permission model) against a plain
 * `child_process.fork` of the same file, alternating, same minimal environment (FACTS.md: an
 * inherited NODE_EXTRA_CA_CERTS alone costs ~25 ms per start). Then the idle memory of one
 * capsule (RSS, PSS, private) against the forked child. Prints one JSON array (npm run bench).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { prepareConfinement } from '@elastos/runtime/confine/confine-context';
import { createLogger } from '@elastos/runtime/log/index';
import { Supervisor } from '@elastos/runtime/supervise/index';
import { LineReader, makeCapsuleDirs, makeTempDir } from '@elastos/testkit';

const ROUNDS = 21;
// Each round starts one of each, interleaved, so that load from other users hits all alike.
const ENV = { ATTACK: 'serve' };
const MB = 1e6;
const log = createLogger({ name: 'bench', level: 'error' });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Rss, Pss and private memory of a process, from /proc/PID/smaps_rollup (kB). */
function memoryOf(pid: number): { rss: number; pss: number; priv: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1000;
  return { rss: kb('Rss'), pss: kb('Pss'), priv: kb('Private_Clean') + kb('Private_Dirty') };
}

/** A capsule's memory: every process of its cgroup (Node, and the launcher's monitor and init). */
function capsuleMemory(cgroupDir: string): { rss: number; pss: number; priv: number } {
  const pids = readFileSync(join(cgroupDir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const sum = { rss: 0, pss: 0, priv: 0 };
  for (const m of pids.map(memoryOf)) {
    sum.rss += m.rss;
    sum.pss += m.pss;
    sum.priv += m.priv;
  }
  return sum;
}

async function plainOnce(file: string, how: 'fork' | 'spawn'): Promise<{ ms: number; child: ChildProcess }> {
  const t0 = performance.now();
  const child =
    how === 'fork'
      ? fork(file, [], { env: ENV, stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'ipc'] })
      : spawn(process.execPath, [file], { env: ENV, stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  await new LineReader(child.stdio[3] as Socket).next();
  return { ms: performance.now() - t0, child };
}

async function main(): Promise<void> {
  const tmp = makeTempDir('elastos-bench-');
  let socket: Socket | undefined;
  const ctx = await prepareConfinement({ profile: 'production', cgroupParent: `elastos-bench-${process.pid}`, log });
  const sup = new Supervisor(ctx, {
    log,
    stopGraceMs: 1000,
    uidBase: 320_000,
    onChannel: (_n, s) => {
      socket = s;
    },
  });
  const dirs = makeCapsuleDirs(tmp.path, 'bench');
  const spec = {
    name: 'bench',
    id: 'bench',
    ...dirs,
    // Two cores, as the plain children get: the benchmark measures the mechanism, not a chosen CPU cap.
    limits: { memoryBytes: 256 * MB, pids: 64, cpuPercent: 200 },
    network: false,
    env: ENV,
  };
  const file = join(dirs.codeDir, 'main.mjs');
  const confined: number[] = [];
  const forked: number[] = [];
  const spawned: number[] = [];
  const granted: number[] = [];
  const grantedDirs = makeCapsuleDirs(tmp.path, 'benchnet');
  const quota: number[] = [];
  // The daemon's default: the capsule's data on its own volume (data-volume.ts), made before the rounds.
  const quotaSpec = {
    ...spec,
    ...makeCapsuleDirs(tmp.path, 'benchdisk'),
    name: 'benchdisk',
    id: 'benchdisk',
    limits: { ...spec.limits, diskBytes: 64 * 1024 * 1024 },
  };
  try {
    await sup.start(quotaSpec);
    await new LineReader(socket as Socket).next();
    await sup.stop('benchdisk');
    for (let i = 0; i < ROUNDS; i++) {
      const f = await plainOnce(file, 'fork');
      forked.push(f.ms);
      f.child.kill('SIGKILL');
      const s = await plainOnce(file, 'spawn');
      spawned.push(s.ms);
      s.child.kill('SIGKILL');
      const t0 = performance.now();
      await sup.start(spec);
      await new LineReader(socket as Socket).next();
      confined.push(performance.now() - t0);
      await sup.stop('bench');
      // The same capsule with a network grant (AF_INET/AF_INET6 in its filter; its own network namespace,
      // veth pair and routes made by the launcher, gone with it: capsule-net.ts, launcher/veth.c).
      const t1 = performance.now();
      await sup.start({ ...spec, ...grantedDirs, name: 'benchnet', id: 'benchnet', network: true });
      await new LineReader(socket as Socket).next();
      granted.push(performance.now() - t1);
      await sup.stop('benchnet');
      const t2 = performance.now();
      await sup.start(quotaSpec);
      await new LineReader(socket as Socket).next();
      quota.push(performance.now() - t2);
      await sup.stop('benchdisk');
    }
    // Idle memory: one capsule and one forked child, settled for a second.
    await sup.start(spec);
    await new LineReader(socket as Socket).next();
    const f = await plainOnce(file, 'fork');
    await new Promise((r) => setTimeout(r, 1000));
    const cap = capsuleMemory(sup.status('bench').cgroup[0] ?? '');
    const base = memoryOf(f.child.pid ?? 0);
    f.child.kill('SIGKILL');
    await sup.stopAll();
    const c = median(confined);
    const b = median(forked);
    const row = (name: string, value: number, baseline: number, unit: string, goal?: string) => ({
      name,
      value: Number(value.toFixed(2)),
      unit,
      baseline: Number(baseline.toFixed(2)),
      ratio: Number((value / baseline).toFixed(3)),
      ...(goal ? { goal } : {}),
    });
    const rows = [
      row('confined capsule spawn to first message (median) vs fork', c, b, 'ms', '<= 1.3x'),
      row('confined capsule spawn to first message (median) vs spawn with a fd-3 pipe', c, median(spawned), 'ms'),
      row('network-granted capsule spawn to first message (median) vs fork', median(granted), b, 'ms', '<= 1.3x'),
      row(
        'capsule with a disk quota (own volume) spawn to first message (median) vs fork',
        median(quota),
        b,
        'ms',
        '<= 1.3x',
      ),
      // The fastest of each: the mechanism's own cost, least disturbed by other load on the machine.
      row('confined capsule spawn to first message (best) vs fork', Math.min(...confined), Math.min(...forked), 'ms'),
      row('idle capsule PSS vs forked child', cap.pss / MB, base.pss / MB, 'MB'),
      row('idle capsule private memory vs forked child', cap.priv / MB, base.priv / MB, 'MB'),
      row('idle capsule RSS vs forked child', cap.rss / MB, base.rss / MB, 'MB'),
    ];
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } finally {
    await sup.stopAll();
    tmp.remove();
  }
}

await main();
