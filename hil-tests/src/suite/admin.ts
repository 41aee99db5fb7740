import assert from 'node:assert/strict';
import { capsuleLog, json, ok, pendingAsk, runHilCapsule, type SuiteContext, scaled } from './helpers.js';

export function adminTests(ctx: SuiteContext): void {
  it('admin over SSH: status, health, capsule list, approve and deny', async function () {
    const rig = ctx.rig();
    this.timeout(scaled(rig, 120_000));
    assert.match(await ok(rig, ['status']), /running/);
    const health = await json<Record<string, unknown>>(rig, ['health']);
    assert.ok(health && typeof health === 'object' && Object.keys(health).length > 0, 'health has readings');
    const { capsules } = await json<{ capsules: Array<{ name: string }> }>(rig, ['capsule', 'list']);
    assert.ok(capsules.some((c) => c.name === 'storage'));
    await runHilCapsule(rig, 'asker');
    const first = await pendingAsk(rig, 'storage://hil/asked/1');
    await ok(rig, ['approve', first.ticket]);
    const second = await pendingAsk(rig, 'storage://hil/asked/2');
    await ok(rig, ['deny', second.ticket]);
    const log = await capsuleLog(rig, 'asker', /asker done/);
    const thisRun = log.slice(log.lastIndexOf('request write storage://hil/asked/1') - 10);
    assert.match(thisRun, /ok +request write storage:\/\/hil\/asked\/1/);
    assert.match(log, /refused +request write storage:\/\/hil\/asked\/2.*E_BROKER_DENIED/);
  });

  it('admin over SSH: the restricted key gets no shell and runs nothing but elastos', async () => {
    const shell = ctx.rig().get('shell');
    for (const attempt of ['/bin/sh -c id', 'id', 'elastos status; id', 'bash']) {
      const r = await shell.tryRaw(attempt);
      assert.notEqual(r.code, 0, `${attempt} must be refused`);
      assert.match(r.stderr, /error E_USAGE: /, attempt);
      assert.doesNotMatch(r.stdout, /uid=/, attempt);
    }
  });

  it('admin over SSH: `elastos epoch bump` revokes every live token', async () => {
    const rig = ctx.rig();
    const before = await json<unknown[]>(rig, ['token', 'list']);
    assert.ok(before.length > 0, 'the story holds live tokens');
    await ok(rig, ['epoch', 'bump']);
    const after = await json<unknown[]>(rig, ['token', 'list']);
    assert.deepEqual(after, [], 'no token is live after the bump');
  });
}
