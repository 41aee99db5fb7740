import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import type { Rig } from '../rig.js';
import {
  box,
  capsuleLog,
  headSeq,
  json,
  type PendingAsk,
  runHilCapsule,
  type SuiteContext,
  scaled,
  trailAfter,
} from './helpers.js';

const FIRST = 'storage://hil/asked/1';
const SECOND = 'storage://hil/asked/2';

type ShownAsk = PendingAsk & { button?: { until: string; code: number } };

/**
 * Waits until the box shows the request for `resource` to the button: `elastos requests` marks it
 * with its LED code and the MCU's LED blinks that code. A request of a capsule instance that has
 * since gone is never shown, so a press cannot be spent on it.
 */
async function shownToButton(rig: Rig, resource: string): Promise<ShownAsk> {
  return pollFor(
    `the button to show the request for ${resource}`,
    async () => {
      const shown = (await json<ShownAsk[]>(rig, ['requests'])).find((r) => r.button);
      if (shown?.request.resource !== resource || !shown.button) return undefined;
      return (await rig.get('mcu').ledCode()) === shown.button.code ? shown : undefined;
    },
    scaled(rig, 30_000),
    250,
  );
}

const issued = (records: Array<{ type: string; resource?: string }>, resource: string) =>
  records.some((r) => r.type === 'token.issue' && r.resource === resource);

export function presenceTests(ctx: SuiteContext): void {
  it('physical presence: an "ask the button" request waits; a long press inside its window approves it, a press outside approves nothing', async function () {
    const rig = ctx.rig();
    // Each request's window is the rig's (broker.askTimeoutMs: local 15 s, qemu 90 s); the test
    // waits one window out, and every call over the rig's shell is as slow as the rig.
    const windowMs = box(rig).askWindowMs;
    this.timeout(windowMs + scaled(rig, 120_000));
    const mcu = rig.get('mcu');
    const from = await headSeq(rig);
    await runHilCapsule(rig, 'asker');
    const first = await shownToButton(rig, FIRST);
    assert.equal(await mcu.led(), 'attention');
    await mcu.press(300); // a short press is not presence
    await new Promise((r) => setTimeout(r, scaled(rig, 1000)));
    assert.ok(
      (await json<Array<{ request: { resource: string } }>>(rig, ['requests'])).some(
        (r) => r.request.resource === FIRST,
      ),
      'still pending after a short press',
    );
    await mcu.press(2500);
    await capsuleLog(rig, 'asker', /ok +request write storage:\/\/hil\/asked\/1/, scaled(rig, 20_000));

    const second = await shownToButton(rig, SECOND);
    assert.notEqual(second.button?.code, first.button?.code, 'the next request blinks another code');
    const log = await capsuleLog(rig, 'asker', /asker done/, windowMs + scaled(rig, 20_000)); // its window closes unanswered
    assert.match(log, /refused +request write storage:\/\/hil\/asked\/2.*: E_[A-Z_]+/);
    await mcu.press(2500); // outside any window
    await new Promise((r) => setTimeout(r, scaled(rig, 1500)));
    const records = await trailAfter(rig, from);
    assert.ok(issued(records, FIRST), 'the press inside the window led to a token');
    assert.ok(!issued(records, SECOND), 'the press outside the window approved nothing');
    assert.equal((await json<unknown[]>(rig, ['requests'])).length, 0);
    const approving = records.find((r) => r.type === 'request.presence' && r.decision === 'allow');
    assert.equal(approving?.details?.code, first.button?.code, 'the trail names the code the press answered');
    assert.equal(await mcu.ledCode(), 0, 'nothing shown, no code');
  });
}
