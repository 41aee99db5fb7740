import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import { box, headSeq, json, type SuiteContext, scaled, trailAfter, waitRuntime } from './helpers.js';

export function tamperTests(ctx: SuiteContext): void {
  it('tamper after power: a capsule package altered on the disk is refused at the next boot, in the trail', async function () {
    const rig = ctx.rig();
    // A power-off (the guest's own shutdown on QEMU) and a boot, each bounded by the boot time.
    this.timeout(2 * box(rig).bootMs + 120_000);
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
      scaled(rig, 30_000),
      500,
    );
    assert.match(refused.code ?? '', /^E_CAPSULE_/);
    const status = await json<{ capsules: Array<{ name: string; state: string }> }>(rig, ['status']);
    assert.notEqual(status.capsules.find((c) => c.name === 'notes')?.state, 'running');
  });
}
