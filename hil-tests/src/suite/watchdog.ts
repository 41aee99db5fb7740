import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import { headSeq, type SuiteContext, trailAfter, waitRuntime } from './helpers.js';

export function watchdogTests(ctx: SuiteContext): void {
  it("watchdog: a hung runtime (SIGSTOP) is reset by the MCU's watchdog, comes back, and the trail says so", async function () {
    this.timeout(180_000);
    const rig = ctx.rig();
    const { pid } = await waitRuntime(rig);
    const mcu = rig.get('mcu');
    const resets = await mcu.watchdogResets();
    const from = await headSeq(rig);
    await rig.get('shell').hangRuntime(pid);
    await pollFor(
      'the MCU watchdog to reset the board',
      async () => ((await mcu.watchdogResets()) > resets ? true : undefined),
      60_000,
      200,
    );
    const back = await waitRuntime(rig);
    assert.notEqual(back.pid, pid, 'a new runtime answers');
    const boot = await pollFor(
      'the watchdog reset in the trail',
      async () => (await trailAfter(rig, from)).find((r) => r.type === 'mcu.boot' && r.details?.reason === 'watchdog'),
      30_000,
      500,
    );
    assert.equal(boot.actor, 'mcu');
  });
}
