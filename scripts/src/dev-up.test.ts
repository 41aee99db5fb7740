import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processStartTime } from '@elastos/runtime';
import { makeTempDir, pollFor, runElastos, stopChild, testInstance } from '@elastos/testkit';

const DEV_UP = fileURLToPath(new URL('./dev-up.js', import.meta.url));
type Proc = { name: string; pid: number; startTime: string };
type Line = { name?: string; msg?: string; level?: number; code?: string };

/** One `npm start` on a private run dir and instance; its output (JSON lines: not a TTY) is collected. */
function npmStart(dir: string, confine: object): { child: ChildProcess; lines: Line[]; text: () => string } {
  const env = { ...process.env, ELASTOS_DEV_DIR: dir, ELASTOS_DEV_CONFINE: JSON.stringify(confine) };
  const child = spawn(process.execPath, [DEV_UP], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let raw = '';
  const take = (d: Buffer) => {
    raw += d.toString();
    for (const l of d.toString().split('\n'))
      if (l.startsWith('{'))
        try {
          lines.push(JSON.parse(l) as Line);
        } catch {
          // a line split across chunks: the raw text keeps it
        }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return { child, lines, text: () => raw };
}

const alive = (p: Proc) => processStartTime(p.pid) === p.startTime;

describe('npm start: safe to re-run, after a kill -9 too, and nothing it started is left', function () {
  this.timeout(300_000);
  const dir = makeTempDir();
  const confine = testInstance();
  const record = () =>
    JSON.parse(readFileSync(join(dir.path, 'npm-start.json'), 'utf8')) as Proc & { children: Proc[] };
  const ready = (s: ReturnType<typeof npmStart>) =>
    pollFor(
      'npm start to say ready',
      async () => {
        if (s.child.exitCode !== null) throw new Error(`npm start exited ${s.child.exitCode}: ${s.text()}`);
        return s.lines.some((l) => l.msg?.startsWith('ready.')) ? true : undefined;
      },
      180_000,
    );
  /** Everything one run started: its recorded children and the capsules its runtime runs. */
  const started = async (): Promise<Proc[]> => {
    const ps = await runElastos(['--json', '--config', join(dir.path, 'config.json'), 'ps']);
    const capsules = (JSON.parse(ps.stdout) as Array<{ name: string; pid: number | null }>)
      .filter((c) => c.pid !== null)
      .map((c) => ({ name: c.name, pid: c.pid as number, startTime: processStartTime(c.pid as number) ?? '' }));
    return [...record().children, ...capsules];
  };
  const gone = (procs: Proc[]) =>
    pollFor('every process to be gone', async () => (procs.some(alive) ? undefined : true), 30_000, 100);
  const left: ChildProcess[] = [];
  after(async () => {
    for (const c of left) await stopChild(c, 'SIGKILL');
    dir.remove();
  });

  it('refuses a second run while one runs, cleans up after a kill -9, runs again and stops on Ctrl-C', async () => {
    const first = npmStart(dir.path, confine);
    left.push(first.child);
    await ready(first);
    const procs = await started();
    assert.deepEqual(
      procs.slice(0, 4).map((p) => p.name),
      ['swtpm', 'socat', 'simulator', 'elastosd'],
    );
    assert.ok(procs.length >= 8, 'the demo capsules run');

    const second = npmStart(dir.path, confine);
    assert.equal(await new Promise((r) => second.child.once('exit', r)), 75);
    assert.match(second.text(), /E_DAEMON_RUNNING.*npm start already runs here/);
    assert.ok(procs.every(alive), 'the running one is untouched');

    first.child.kill('SIGKILL');
    await gone(procs);
    // A child that outlived its npm start (one that ignored the parent-death signal): the next run stops it.
    const straggler = spawn('sleep', ['600']);
    left.push(straggler);
    const rec = record();
    const pid = straggler.pid as number;
    rec.children.push({ name: 'straggler', pid, startTime: processStartTime(pid) ?? '' });
    writeFileSync(join(dir.path, 'npm-start.json'), JSON.stringify(rec));

    const third = npmStart(dir.path, confine);
    left.push(third.child);
    await ready(third);
    assert.equal(straggler.exitCode !== null || straggler.signalCode !== null, true, 'the straggler was stopped');
    assert.ok(third.lines.some((l) => l.msg?.includes(`left straggler ${pid}`)));
    assert.ok(!third.lines.some((l) => l.level !== undefined && l.level >= 50), 'no error');
    const again = await started();
    third.child.kill('SIGINT');
    assert.equal(await new Promise((r) => third.child.once('exit', r)), 0);
    await gone(again);
    assert.equal(existsSync(join(dir.path, 'npm-start.json')), false);
  });

  it('stops everything it started when a part of its own fails (the runtime refuses its config)', async () => {
    const bad = npmStart(dir.path, { ...confine, uidCount: 0 });
    left.push(bad.child);
    const code = await new Promise((r) => bad.child.once('exit', r));
    assert.notEqual(code, 0);
    assert.match(bad.text(), /E_CONFIG_INVALID/);
    const pids = [...bad.text().matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    assert.ok(pids.length >= 2, 'the TPM and the MCU simulator had started');
    for (const pid of pids) assert.equal(processStartTime(pid), null, `pid ${pid} is gone`);
    assert.equal(existsSync(join(dir.path, 'npm-start.json')), false);
  });
});
