/**
 * What the admin socket's peer check costs a CLI call, and what serving health from the last
 * sample saves. Prints one JSON array of {name, value, unit, baseline, ratio}.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AdminClient, AdminServer, adminGroupPolicy, createLogger, HealthSampler } from '@elastos/runtime';
import { makeTempDir } from '@elastos/testkit';

const N = 300;
const BLOCKS = 15;
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const log = createLogger({ name: 'bench', level: 'silent', pretty: false });

async function perCall(path: string, n: number): Promise<number> {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const c = await AdminClient.connect(path);
    await c.call('version');
    c.close();
  }
  return Number(process.hrtime.bigint() - t) / 1e3 / n;
}

/** Baseline: the same line protocol on a plain unix socket server, no peer check. */
async function plainServer(path: string): Promise<() => Promise<void>> {
  const server = createServer((s) => {
    s.on('error', () => s.destroy());
    createInterface({ input: s }).on('line', (line) => {
      const { id } = JSON.parse(line) as { id: number };
      s.write(`${JSON.stringify({ id, ok: true, result: { version: 'x' } })}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return () => new Promise((r) => server.close(() => r()));
}

async function main(): Promise<void> {
  const dir = makeTempDir();
  const rows = [];
  try {
    const plain = join(dir.path, 'plain.sock');
    const stopPlain = await plainServer(plain);
    // Treated as a non-root peer, so each connection reads the group file (root would skip it).
    const groupFile = join(dir.path, 'group');
    writeFileSync(groupFile, `bench-admin:x:4242:\n`);
    const policy = adminGroupPolicy({ group: 'bench-admin', groupFile });
    const admin = new AdminServer(join(dir.path, 'admin.sock'), log, (peer) =>
      policy({ ...peer, uid: peer.uid === 0 ? 4242 : peer.uid, gid: 4242 }),
    );
    admin.register('version', () => ({ version: 'x' }), { audit: false });
    await admin.listen();
    await perCall(plain, 20);
    // Interleaved blocks, median of each: the machine is shared, load comes and goes.
    const bases: number[] = [];
    const checks: number[] = [];
    for (let b = 0; b < BLOCKS; b++) {
      bases.push(await perCall(plain, N / BLOCKS));
      checks.push(await perCall(join(dir.path, 'admin.sock'), N / BLOCKS));
    }
    const base = median(bases);
    const checked = median(checks);
    rows.push({
      name: 'admin call: connect + SO_PEERCRED + admin-group lookup + reply',
      value: checked,
      unit: 'us',
      baseline: base,
      ratio: checked / base,
      goal: '< 2x a plain unix-socket call',
    });
    await admin.close();
    await stopPlain();

    const sampler = new HealthSampler(60_000, log);
    sampler.start();
    await sampler.latest();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) await sampler.latest();
    const cached = Number(process.hrtime.bigint() - t0) / 1e3 / 1000;
    await sampler.stop();
    const fresh = new HealthSampler(60_000, log);
    const t1 = process.hrtime.bigint();
    fresh.start();
    await fresh.latest();
    const first = Number(process.hrtime.bigint() - t1) / 1e3;
    await fresh.stop();
    rows.push({
      name: 'health: served from the last sample',
      value: cached,
      unit: 'us',
      baseline: first,
      ratio: cached / first,
      goal: 'no measurement on the request path',
    });
  } finally {
    dir.remove();
  }
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

await main();
