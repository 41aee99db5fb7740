import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import { box, headSeq, type SuiteContext, scaled, trailAfter, waitRuntime } from './helpers.js';

export function watchdogTests(ctx: SuiteContext): void {
  it("watchdog: a hung runtime (SIGSTOP) is reset by the MCU's watchdog, comes back, and the trail says so", async function () {
    const rig = ctx.rig();
    const { bootMs, watchdogMs } = box(rig);
    // The hang lasts one watchdog period (plus the MCU's grace), then a whole boot.
    this.timeout(2 * watchdogMs + 2 * bootMs + 120_000);
    const { pid } = await waitRuntime(rig);
    const mcu = rig.get('mcu');
    const resets = await mcu.watchdogResets();
    const from = await headSeq(rig);
    await rig.get('shell').hangRuntime(pid);
    await pollFor(
      'the MCU watchdog to reset the board',
      async () => ((await mcu.watchdogResets()) > resets ? true : undefined),
      2 * watchdogMs + 30_000,
      200,
    );
    const back = await waitRuntime(rig);
    assert.notEqual(back.pid, pid, 'a new runtime answers');
    const boot = await pollFor(
      'the watchdog reset in the trail',
      async () => (await trailAfter(rig, from)).find((r) => r.type === 'mcu.boot' && r.details?.reason === 'watchdog'),
      scaled(rig, 30_000),
      500,
    );
    assert.equal(boot.actor, 'mcu');
  });
}
