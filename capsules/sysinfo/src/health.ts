/**
 * Health readings, sampled on a timer and served from the last sample (FACTS.md: the first
 * `currentLoad()` takes ~0.5 s and `cpuTemperature()` spawns). A confined capsule cannot read
 * /sys or /proc through Node (its permission model allows only its own dirs), so each reading
 * says where it came from, and what could not be read is listed in `unavailable` with why.
 */

import { statfsSync } from 'node:fs';
import { freemem, loadavg, totalmem } from 'node:os';
import si from 'systeminformation';

export interface Health {
  sampledAt: string;
  cpuTemperatureC: number | null;
  load: { avg1: number; avg5: number; avg15: number; currentPercent: number | null };
  memory: { totalBytes: number; availableBytes: number; source: string };
  disk: { path: string; totalBytes: number; freeBytes: number } | null;
  unavailable: Record<string, string>;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms))]);

function why(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return (e.code ?? e.message ?? String(err)).slice(0, 160);
}

async function temperature(unavailable: Record<string, string>): Promise<number | null> {
  try {
    const t = await withTimeout(si.cpuTemperature(), 2000);
    if (typeof t.main === 'number' && t.main > -100) return t.main;
    unavailable.cpuTemperature = 'no thermal sensor readable from inside the capsule (/sys is not in its view)';
  } catch (err) {
    unavailable.cpuTemperature = why(err);
  }
  return null;
}

async function currentLoad(unavailable: Record<string, string>): Promise<number | null> {
  try {
    const l = await withTimeout(si.currentLoad(), 2000);
    if (Number.isFinite(l.currentLoad)) return Math.round(l.currentLoad * 10) / 10;
    unavailable.currentLoad = 'no per-CPU counters readable (/proc/stat is not in the view)';
  } catch (err) {
    unavailable.currentLoad = why(err);
  }
  return null;
}

function disk(path: string, unavailable: Record<string, string>): Health['disk'] {
  try {
    const s = statfsSync(path);
    return { path, totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch (err) {
    unavailable.disk = why(err);
    return null;
  }
}

export async function sample(dataDir: string): Promise<Health> {
  const unavailable: Record<string, string> = {};
  const [avg1, avg5, avg15] = loadavg() as [number, number, number];
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    sampledAt: new Date().toISOString(),
    cpuTemperatureC: await temperature(unavailable),
    load: { avg1: round(avg1), avg5: round(avg5), avg15: round(avg15), currentPercent: await currentLoad(unavailable) },
    // libuv reads these through the kernel (sysinfo(2)), not through Node's fs: they work confined.
    memory: { totalBytes: totalmem(), availableBytes: freemem(), source: 'os' },
    disk: disk(dataDir, unavailable),
    unavailable,
  };
}
