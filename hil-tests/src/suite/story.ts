import assert from 'node:assert/strict';
import { capsuleLog, json, type SuiteContext, trail } from './helpers.js';

const PHOTO = 'storage://photos/vacation.jpg';

export function storyTests(ctx: SuiteContext): void {
  it("the seed's story: the capsules run, the scoped grant works, the out-of-scope read is refused with its code, all in the trail", async () => {
    const rig = ctx.rig();
    const status = await json<{ capsules: Array<{ name: string; state: string }> }>(rig, ['status']);
    for (const name of ['shell', 'storage', 'sysinfo', 'notes', 'photo-editor', 'agent']) {
      assert.ok(
        status.capsules.some((c) => c.name === name && c.state === 'running'),
        `${name} runs: ${JSON.stringify(status.capsules)}`,
      );
    }
    const log = await capsuleLog(rig, 'photo-editor', /photo-editor done/);
    assert.match(log, /ok +request read storage:\/\/photos\/vacation\.jpg/);
    const refused = log.match(/refused +read storage:\/\/photos\/passport\.jpg with the vacation token.*: (E_[A-Z_]+)/);
    assert.ok(refused, `the out-of-scope read is refused with a code:\n${log}`);
    const records = await trail(rig, 1500);
    assert.ok(
      records.some((r) => r.type === 'token.issue' && r.resource === PHOTO && r.action === 'read'),
      'the scoped grant is in the trail',
    );
    assert.ok(
      records.some((r) => r.code === refused[1] && r.resource === 'storage://photos/passport.jpg'),
      `the refusal (${refused[1]}) is in the trail`,
    );
  });
}
