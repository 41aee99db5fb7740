import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import { headSeq, json, type SuiteContext, trailAfter, waitRuntime } from './helpers.js';

export function tamperTests(ctx: SuiteContext): void {
  it('tamper after power: a capsule package altered on the disk is refused at the next boot, in the trail', async function () {
    this.timeout(180_000);
    const rig = ctx.rig();
    const { stateDir } = await waitRuntime(rig);
    const from = await headSeq(rig);
    await rig.get('shell').alterCapsule(stateDir, 'notes');
    await rig.get('power').cycle();
    await waitRuntime(rig);
    const refused = await pollFor(
      'the refusal of notes in the trail',
      async () =>
        (await trailAfter(rig, from)).find(
          (x) => x.type === 'capsule.refused' && (x.resource === 'capsule:notes' || x.resource === 'notes'),
        ),
      30_000,
      500,
    );
    assert.match(refused.code ?? '', /^E_CAPSULE_/);
    const status = await json<{ capsules: Array<{ name: string; state: string }> }>(rig, ['status']);
    assert.notEqual(status.capsules.find((c) => c.name === 'notes')?.state, 'running');
  });
}
