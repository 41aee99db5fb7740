import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCode, processStartTime } from '@elastos/runtime';
import { makeTempDir, stopChild } from '@elastos/testkit';
import { RunRecord } from './run-record.js';

const me = (pid: number) => ({ pid, startTime: processStartTime(pid) ?? '' });

describe("npm start's run record: refuse a live run, stop what a dead one left (by recorded pid only)", () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => dir.remove());

  it('refuses while the recorded npm start lives (E_DAEMON_RUNNING), and starts nothing', async () => {
    const other = spawn('sleep', ['60']);
    const path = join(dir.path, 'npm-start.json');
    writeFileSync(path, JSON.stringify({ ...me(other.pid as number), children: [] }));
    try {
      await assert.rejects(
        new RunRecord(path).takeOver(() => {}),
        (e: unknown) => hasCode(e, 'E_DAEMON_RUNNING'),
      );
    } finally {
      await stopChild(other, 'SIGKILL');
    }
  });

  it("stops a dead run's recorded children that still run, and leaves every other process alone", async () => {
    const dead = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout);
    const left = spawn('sleep', ['60']);
    const leftExit = new Promise((r) => left.once('exit', (_c, signal) => r(signal)));
    const unrelated = spawn('sleep', ['60']);
    const path = join(dir.path, 'npm-start.json');
    const children = [
      { name: 'swtpm', ...me(left.pid as number) },
      { name: 'socat', pid: dead, startTime: '1' },
    ];
    writeFileSync(path, JSON.stringify({ pid: dead, startTime: '1', children }));
    const said: string[] = [];
    try {
      const record = new RunRecord(path);
      await record.takeOver((l) => said.push(l));
      const timeout = new Promise((r) => setTimeout(() => r('still running'), 2000));
      assert.equal(await Promise.race([leftExit, timeout]), 'SIGTERM', 'the leftover was stopped');
      assert.equal(unrelated.exitCode ?? unrelated.signalCode, null, 'the unrelated process runs on');
      assert.match(said.join('\n'), new RegExp(`left swtpm ${left.pid}: stopping`));
      record.add('elastosd', unrelated.pid);
      record.remove();
      assert.equal(existsSync(path), false);
    } finally {
      await stopChild(left, 'SIGKILL');
      await stopChild(unrelated, 'SIGKILL');
    }
  });
});
