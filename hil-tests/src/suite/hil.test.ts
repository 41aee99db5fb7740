/**
 * The conformance suite: the same test bodies on every rig (HIL_RIG=local|qemu|board or
 * HIL_RIG_FILE). The rig is opened once, closed after the last test (and on Ctrl-C); each
 * result goes to JUnit XML and a one-screen summary, a failure with the console's tail and the
 * rig's last commands. The update cycle (issue 24) has its slot in README.md, not a test yet.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../backends/index.js';
import { createRig, rigFilePath } from '../registry.js';
import { summary, type TestResult, toJUnit } from '../report/results.js';
import type { Rig } from '../rig.js';
import { loadRigFile, type RigFile } from '../rig-file.js';
import { adminTests } from './admin.js';
import { bootTests } from './boot.js';
import { powerCutTests } from './power-cut.js';
import { presenceTests } from './presence.js';
import { storyTests } from './story.js';
import { tamperTests } from './tamper.js';
import { watchdogTests } from './watchdog.js';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results');

/** A rig's boot time bounds its slowest step; each test's own waits are bounded by it. */
function bootSeconds(file: RigFile): number {
  return file.backend === 'local' ? 60 : file.backend === 'qemu' ? file.qemu.bootTimeoutS : file.board.bootTimeoutS;
}

describe(`HIL conformance suite (rig file ${rigFilePath()})`, function () {
  // An emulated box answers one CLI call in seconds, not milliseconds: its tests get a boot's time.
  this.timeout(Math.max(120_000, bootSeconds(loadRigFile(rigFilePath())) * 1000));
  let rig: Rig | undefined;
  let openError: Error | undefined;
  let reported = false;
  const results: TestResult[] = [];
  const started = Date.now();
  const ctx = {
    // A rig that did not open fails the first test with the cause, the others at once.
    rig: () => {
      if (rig) return rig;
      const err = openError ?? new Error('the rig did not open');
      if (!reported) {
        reported = true;
        throw err;
      }
      throw new Error(`the rig did not open (see the first failure: ${err.message.split('\n')[0]})`);
    },
  };
  let opening: Rig | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nHIL: ${signal}: closing the rig\n`);
    void (opening?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  // Whatever ends this process, nothing the rig started outlives it.
  const onExit = () => opening?.killNow();

  before(async function () {
    // The backend's own waits are bounded by its boot time (QEMU: two boots and a power-off).
    this.timeout(3 * bootSeconds(loadRigFile(rigFilePath())) * 1000 + 300_000);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
    process.once('exit', onExit);
    try {
      const r = createRig();
      opening = r.rig;
      await r.opened;
      rig = r.rig;
    } catch (err) {
      openError = err as Error;
    }
  });

  afterEach(function () {
    const t = this.currentTest;
    if (!t) return;
    const r: TestResult = {
      title: t.title,
      rig: opening?.name ?? process.env.HIL_RIG ?? 'local',
      state: t.state === 'passed' ? 'passed' : t.state === 'failed' ? 'failed' : 'pending',
      durationMs: t.duration ?? 0,
    };
    if (r.state === 'failed') {
      r.error = (t as unknown as { err?: Error }).err?.stack ?? 'failed';
      // At once, not only in the summary: a QEMU run is long, the cause is wanted while it runs.
      process.stdout.write(`      FAIL: ${r.error.split('\n')[0]}\n`);
      r.consoleTail = opening?.has('console') ? opening.get('console').tail(30) : '(no console)';
      r.commands = [...(opening?.history ?? [])];
    }
    results.push(r);
  });

  after(async function () {
    this.timeout(120_000);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    const name = opening?.name ?? process.env.HIL_RIG ?? 'local';
    await opening?.close();
    process.off('exit', onExit);
    mkdirSync(RESULTS, { recursive: true });
    const xml = process.env.HIL_JUNIT ?? join(RESULTS, `junit-${name}.xml`);
    writeFileSync(xml, toJUnit(results, 'elastos-hil', name));
    process.stdout.write(`\n${summary(results, name, Date.now() - started)}JUnit XML: ${xml}\n`);
  });

  bootTests(ctx);
  storyTests(ctx);
  presenceTests(ctx);
  adminTests(ctx);
  powerCutTests(ctx);
  watchdogTests(ctx);
  tamperTests(ctx);
});
