import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { Store } from '../store/index.js';
import { TestEd25519Key } from './fixtures/test-key.js';
import { ToolsAnchor } from './tools-anchor.js';
import { verifyAuditLog } from './verify.js';

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url));
const KILLS = 50;

/** Starts the writer in its own process group, kills the group with SIGKILL after `ms` of acknowledged appends. */
async function runAndKill(args: string[], ms: number): Promise<{ acked: number; first: number }> {
  const child = fork(WRITER, args, { detached: true, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let acked = -1;
  let first = -1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    child.on('message', (m: { acked?: number; ready?: number }) => {
      if (m.ready !== undefined) {
        first = m.ready;
        setTimeout(resolve, ms);
      }
      if (m.acked !== undefined) acked = m.acked;
    });
  });
  // The whole group, as systemd's cgroup kill would: nothing of the writer outlives it.
  process.kill(-(child.pid as number), 'SIGKILL');
  await exited;
  return { acked, first };
}

describe('audit crash loop: kill -9 during heavy appends, node-tpm2 anchor in the writer (spec/audit.md §5, §7)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let swtpm: Swtpm;

  before(async () => {
    tmp = makeTempDir();
    swtpm = new Swtpm(join(tmp.path, 'tpm'));
    await swtpm.start();
  });
  after(async () => {
    await swtpm.stop();
    tmp.remove();
  });

  it(`keeps every acknowledged record and a verifiable, anchored chain across ${KILLS} kills`, async () => {
    const key = await TestEd25519Key.generate();
    const indices = { extendIndex: 0x01000c01, counterIndex: 0x01000c02 };
    const location = join(tmp.path, 'db');
    const args = [location, swtpm.tcti, String(indices.extendIndex), String(indices.counterIndex), key.secretHex];
    const anchor = await ToolsAnchor.open(swtpm.tcti, indices);
    let expectedNext = 0;
    const states = new Set<string>();
    for (let i = 0; i < KILLS; i++) {
      const { acked, first } = await runAndKill(args, 20 + Math.floor(Math.random() * 120));
      assert.ok(first >= expectedNext, `run ${i} started at ${first}, below the acknowledged ${expectedNext}`);
      const store = await Store.open(location);
      try {
        const report = await verifyAuditLog(store, { publicKeys: [key.publicKey], anchor });
        assert.ok(report.last >= acked, `run ${i}: acknowledged ${acked} but the log ends at ${report.last}`);
        states.add(report.anchor);
        expectedNext = report.last + 1;
      } finally {
        await store.close();
      }
    }
    assert.ok(expectedNext > KILLS * 10, `only ${expectedNext} records in ${KILLS} runs`);
    assert.ok(states.has('anchored'));
  });
});
