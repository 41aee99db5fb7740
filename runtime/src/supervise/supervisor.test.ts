import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { LineReader, makeCapsuleDirs, makeTempDir, requireFeature } from '@elastos/testkit';
import { AuditLog, walkChain } from '../audit/index.js';
import { type AuditRecord, GENESIS_HASH } from '../audit/record.js';
import { parseConfig } from '../config/index.js';
import { CgroupV1Driver } from '../confine/cgroup-v1.js';
import { type ConfineContext, prepareConfinement } from '../confine/confine-context.js';
import type { CapsuleSpec } from '../confine/types.js';
import { ElastosError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import type { RunExit } from './capsule-run.js';
import { supervisorFromConfig } from './from-config.js';
import { Supervisor } from './supervisor.js';

const log = createLogger({ name: 'supervisor-test', level: 'fatal' });
const MiB = 1024 * 1024;

/** The real audit trail (AuditLog over a Store), read back through the hash-chain walk. */
class Trail {
  private constructor(
    readonly store: Store,
    readonly log: AuditLog,
  ) {}

  static async open(dir: string): Promise<Trail> {
    const store = await Store.open(join(dir, 'audit-store'));
    return new Trail(store, await AuditLog.open(store));
  }

  async ofType(type: string): Promise<AuditRecord[]> {
    await this.log.flush();
    const out: AuditRecord[] = [];
    for await (const r of walkChain(this.store, { seq: 0, prev: GENESIS_HASH }))
      if (r.record.type === type) out.push(r.record);
    return out;
  }

  async close(): Promise<void> {
    await this.log.close();
    await this.store.close();
  }
}

describe('Supervisor (real launcher and cgroups)', function () {
  this.timeout(30_000);
  let ctx: ConfineContext;
  let tmp: ReturnType<typeof makeTempDir>;
  let trail: Trail;
  const sups: Supervisor[] = [];

  before(async function () {
    try {
      ctx = await prepareConfinement({ profile: 'production', cgroupParent: `elastos-test-${process.pid}`, log });
    } catch (err) {
      if (!(err instanceof ElastosError) || err.code !== 'E_CONFINE_UNAVAILABLE') throw err;
      requireFeature(this, false, err.message);
    }
  });
  beforeEach(async () => {
    tmp = makeTempDir('elastos-supervise-');
    trail = await Trail.open(tmp.path);
  });
  afterEach(async () => {
    for (const s of sups.splice(0)) await s.stopAll();
    await trail.close();
    tmp.remove();
  });

  function supervisor(restart = {}, onChannel?: (name: string, socket: Socket) => void): Supervisor {
    const sup = new Supervisor(ctx, { log, audit: trail.log, stopGraceMs: 1000, restart, uidBase: 310_000, onChannel });
    sups.push(sup);
    return sup;
  }

  function spec(name: string, attack: string, memoryMiB = 128): CapsuleSpec {
    const dirs = makeCapsuleDirs(tmp.path, name);
    const limits = { memoryBytes: memoryMiB * MiB, pids: 32, cpuPercent: 50 };
    return { name, id: `test-${name}`, ...dirs, limits, network: false, env: { ATTACK: attack } };
  }

  it('hands over the channel, reads usage from the cgroup, and removes the cgroup on stop', async () => {
    let socket: Socket | undefined;
    const sup = supervisor({}, (_name, s) => {
      socket = s;
    });
    const echoSpec = spec('echo', 'serve');
    await sup.start(echoSpec);
    assert.ok(socket);
    const reader = new LineReader(socket);
    const hello = await reader.next<{ ready: boolean; pid: number; uid: number }>();
    assert.deepEqual([hello.ready, hello.pid, hello.uid], [true, 2, 310_000], 'pid 2 in its own pid ns, its own uid');
    socket.write('{"n":7}\n');
    assert.deepEqual(await reader.next(), { n: 7 });
    const status = sup.status('echo');
    assert.equal(status.state, 'running');
    assert.ok(status.usage && status.usage.memoryBytes > 4 * MiB && status.usage.pids >= 3 && status.usage.cpuUsec > 0);
    const data = statSync(echoSpec.dataDir);
    assert.deepEqual([data.uid, data.mode & 0o777], [310_000, 0o700], 'data dir private to the capsule uid');
    const dirs = status.cgroup;
    assert.ok(dirs.length > 0 && dirs.every((d) => existsSync(d)));
    const t0 = Date.now();
    await sup.stop('echo');
    assert.ok(Date.now() - t0 < 900, 'SIGTERM stops a capsule without a handler (it is not pid 1)');
    assert.equal(sup.status('echo').state, 'stopped');
    assert.deepEqual(
      dirs.filter((d) => existsSync(d)),
      [],
      'cgroups removed',
    );
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(tmp.path), 'no mount left on the host');
    assert.equal(sup.status('echo').lastExit?.requested, true);
    const again = await sup.restart('echo');
    assert.equal(again.state, 'running');
    assert.equal((await new LineReader(socket).next<{ ready: boolean }>()).ready, true, 'a fresh channel');
  });

  it('leaves no capsule running when the runtime itself is killed with SIGKILL', async () => {
    const dirs = makeCapsuleDirs(tmp.path, 'orphan');
    const here = new URL('.', import.meta.url).pathname;
    const script = `
      import { prepareConfinement } from '${here}../confine/confine-context.js';
      import { Supervisor } from '${here}supervisor.js';
      import { createLogger } from '${here}../log/index.js';
      const log = createLogger({ name: 'orphan', level: 'fatal' });
      const ctx = await prepareConfinement({ profile: 'production', cgroupParent: 'elastos-orphan-${process.pid}', log });
      const sup = new Supervisor(ctx, { log, uidBase: 311000, onChannel: (_n, s) => s.once('data', () => {
        process.stdout.write(JSON.stringify(sup.status('orphan').cgroup) + '\\n');
      }) });
      await sup.start(${JSON.stringify({ name: 'orphan', id: 'x', ...dirs, limits: { memoryBytes: 128 * MiB, pids: 32, cpuPercent: 50 }, network: false, env: { ATTACK: 'linger' } })});
    `;
    const runtime = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) => runtime.stdout.once('data', (d) => resolve(String(d))));
    const cgroups = JSON.parse(line) as string[];
    const procs = () =>
      cgroups.flatMap((d) => readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean));
    assert.ok(procs().length >= 3, 'monitor, init and Node run');
    runtime.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (procs().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(procs(), [], 'the capsule died with its runtime');
    for (const d of cgroups) rmdirSync(d);
    for (const d of cgroups) rmdirSync(dirname(d));
  });

  it('restarts a crashing capsule with doubling backoff, then stops it with E_CAPSULE_CRASHLOOP', async () => {
    const sup = supervisor({ initialDelayMs: 100, maxDelayMs: 1000, crashLimit: 3, crashWindowMs: 60_000 });
    const starts: number[] = [];
    const exits: number[] = [];
    sup.on('channel', () => starts.push(Date.now()));
    sup.on('exit', () => exits.push(Date.now()));
    const looped = new Promise<ElastosError>((r) => sup.once('crashloop', (_n, err: ElastosError) => r(err)));
    await sup.start(spec('crasher', 'crash'));
    const err = await looped;
    assert.equal(err.code, 'E_CAPSULE_CRASHLOOP');
    assert.equal(starts.length, 4, 'the first start and three restarts');
    const gaps = [0, 1, 2].map((i) => (starts[i + 1] ?? 0) - (exits[i] ?? 0));
    assert.ok(gaps[0] !== undefined && gaps[0] >= 95, `first backoff ~100 ms (${gaps})`);
    assert.ok(gaps[1] !== undefined && gaps[1] >= 195, `second ~200 ms (${gaps})`);
    assert.ok(gaps[2] !== undefined && gaps[2] >= 395, `third ~400 ms (${gaps})`);
    const status = sup.status('crasher');
    assert.equal(status.state, 'crashloop');
    assert.equal(status.restarts, 3);
    assert.equal((await trail.ofType('capsule.crashloop'))[0]?.code, 'E_CAPSULE_CRASHLOOP');
    assert.equal((await trail.ofType('capsule.exit')).length, 4);
    assert.deepEqual(status.cgroup, []);
  });

  it('detects an OOM kill, reports its cause and audits it', async () => {
    const sup = supervisor({ initialDelayMs: 60_000 });
    const exited = new Promise<RunExit>((r) => sup.once('exit', (_n, e: RunExit) => r(e)));
    await sup.start(spec('hog', 'memhog', 48));
    const exit = await exited;
    assert.equal(exit.cause, 'E_CONFINE_OOM');
    assert.equal(exit.code, 137, 'SIGKILL from the OOM killer');
    assert.ok(exit.limitEvents.oomKills >= 1);
    assert.equal(sup.status('hog').state, 'backoff', 'an OOM kill is a crash: it restarts after backoff');
    const [event] = await trail.ofType('capsule.oom');
    assert.equal(event?.code, 'E_CONFINE_OOM');
    assert.equal(event?.resource, 'capsule:hog');
  });

  it('refuses a second capsule of the same name and a bad name', async () => {
    const sup = supervisor();
    await sup.start(spec('once', 'serve'));
    await assert.rejects(sup.start(spec('once', 'serve')), { code: 'E_CAPSULE_EXISTS' });
    await assert.rejects(sup.start({ ...spec('other', 'serve'), name: '../x' }), { code: 'E_CAPSULE_INVALID' });
    assert.throws(() => sup.status('nope'), { code: 'E_NOT_FOUND' });
  });

  it('production refuses to start a capsule when a required layer is missing (E_CONFINE_UNAVAILABLE)', async () => {
    const config = parseConfig(
      { profile: 'production', runDir: 'run', stateDir: 'state', confine: { launcher: 'no-such-launcher' } },
      tmp.path,
    );
    const sup = supervisorFromConfig(config, log, { audit: trail.log });
    sups.push(sup);
    await assert.rejects(sup.start(spec('refused', 'serve')), { code: 'E_CONFINE_UNAVAILABLE', message: /launcher/ });
    assert.deepEqual(sup.list(), []);
  });

  it('refuses a capsule whose cgroup cannot be created (E_CONFINE_UNAVAILABLE), leaving no entry', async () => {
    // A "hierarchy" nothing can be created in (a plain file), as an undelegated cgroup v2 would refuse.
    const notADir = join(tmp.path, 'not-a-hierarchy');
    writeFileSync(notADir, '');
    const layout = { v1: new Map([['memory', notADir]]), v1Own: new Map(), v2: null, v2Own: '/', v2Controllers: [] };
    const sup = new Supervisor({ ...ctx, cgroups: new CgroupV1Driver(layout, 'elastos') }, { log, uidBase: 310_000 });
    sups.push(sup);
    await assert.rejects(sup.start(spec('nocgroup', 'serve')), { code: 'E_CONFINE_UNAVAILABLE', message: /cgroup/ });
    assert.deepEqual(sup.list(), []);
  });

  it('does not start a capsule whose start cannot be audited (E_AUDIT_WRITE)', async () => {
    const sup = supervisor();
    await trail.log.close(); // a real audit log that refuses appends
    await assert.rejects(sup.start(spec('unaudited', 'serve')), { code: 'E_AUDIT_WRITE' });
    assert.deepEqual(sup.list(), []);
  });

  it('reports a launcher set-up failure as E_CONFINE_LAUNCH', async () => {
    const sup = supervisor({ initialDelayMs: 60_000 });
    const exited = new Promise<RunExit>((r) => sup.once('exit', (_n, e: RunExit) => r(e)));
    const bad = spec('broken', 'serve');
    await sup.start({ ...bad, codeDir: `${tmp.path}/missing-code` });
    const exit = await exited;
    assert.equal(exit.cause, 'E_CONFINE_LAUNCH');
    assert.match(exit.stderrTail, /elastos-launch: .*missing-code/);
  });
});
