import assert from 'node:assert/strict';
import { capsuleLog, headSeq, json, pendingAsk, runHilCapsule, type SuiteContext, trailAfter } from './helpers.js';

const FIRST = 'storage://hil/asked/1';
const SECOND = 'storage://hil/asked/2';
/** The local and QEMU rigs set broker.askTimeoutMs to 8 s: the window of each request. */
const WINDOW_MS = 8000;

const issued = (records: Array<{ type: string; resource?: string }>, resource: string) =>
  records.some((r) => r.type === 'token.issue' && r.resource === resource);

export function presenceTests(ctx: SuiteContext): void {
  it('physical presence: an "ask the button" request waits; a long press inside its window approves it, a press outside approves nothing', async function () {
    this.timeout(120_000);
    const rig = ctx.rig();
    const mcu = rig.get('mcu');
    const from = await headSeq(rig);
    await runHilCapsule(rig, 'asker');
    await pendingAsk(rig, FIRST);
    await mcu.press(300); // a short press is not presence
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(
      (await json<Array<{ request: { resource: string } }>>(rig, ['requests'])).some(
        (r) => r.request.resource === FIRST,
      ),
      'still pending after a short press',
    );
    await mcu.press(2500);
    await capsuleLog(rig, 'asker', /ok +request write storage:\/\/hil\/asked\/1/, 20_000);

    await pendingAsk(rig, SECOND);
    const log = await capsuleLog(rig, 'asker', /asker done/, WINDOW_MS + 20_000); // its window closes unanswered
    assert.match(log, /refused +request write storage:\/\/hil\/asked\/2.*: E_[A-Z_]+/);
    await mcu.press(2500); // outside any window
    await new Promise((r) => setTimeout(r, 1500));
    const records = await trailAfter(rig, from);
    assert.ok(issued(records, FIRST), 'the press inside the window led to a token');
    assert.ok(!issued(records, SECOND), 'the press outside the window approved nothing');
    assert.equal((await json<unknown[]>(rig, ['requests'])).length, 0);
  });
}
