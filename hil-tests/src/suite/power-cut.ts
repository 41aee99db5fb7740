import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import type { Follower } from '../protocols.js';
import type { Rig } from '../rig.js';
import { box, headSeq, runHilCapsule, type SuiteContext, trailAfter, waitRuntime } from './helpers.js';

const ACK = /ack ([0-9a-f]{8}) (\d+)/;

/** The hammer's acknowledged writes of its newest run, as the rig received them over SSH. */
function acked(f: Follower, seenRuns: Set<string>): { run: string; keys: string[] } | undefined {
  const run = f.lines
    .map((l) => l.match(ACK)?.[1])
    .filter((r) => r !== undefined && !seenRuns.has(r))
    .at(-1);
  if (!run) return undefined;
  const keys = f.lines
    .map((l) => l.match(ACK))
    .filter((m) => m?.[1] === run)
    .map((m) => `${run}-${m?.[2]}`);
  return { run, keys };
}

/**
 * One cycle: load, a cut at a random moment, boot, then the checks. `since` is a trail position
 * before the run it checks began: after a boot the hammer starts by itself and writes while the
 * previous cycle still checks, so the trail is read from the previous cycle's start, not this one's.
 * Returns how many acks it checked and where this cycle started.
 */
async function cycle(
  rig: Rig,
  seenRuns: Set<string>,
  since: number | undefined,
): Promise<{ checked: number; from: number }> {
  const from = await headSeq(rig);
  if (since === undefined) await runHilCapsule(rig, 'hammer'); // later boots start it by themselves
  const follower = rig.get('shell').follow(['capsule', 'logs', 'hammer', '-f', '--lines', '5']);
  try {
    await pollFor(
      'the hammer to write',
      async () => ((acked(follower, seenRuns)?.keys.length ?? 0) >= 20 ? true : undefined),
      60_000,
      50,
    );
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1500)));
    await rig.get('power').cut();
  } finally {
    await new Promise((r) => setTimeout(r, 300)); // what was on its way to the rig arrives
    await follower.stop();
  }
  const load = acked(follower, seenRuns);
  assert.ok(load, 'the hammer ran');
  seenRuns.add(load.run);
  await rig.get('power').on();
  await waitRuntime(rig);
  const verify = await rig.get('shell').elastos(['audit', 'verify'], 300_000);
  assert.equal(verify.code, 0, `audit verify after the cut: ${verify.stderr}`);
  const written = new Set(
    (await trailAfter(rig, since ?? from, 'hammer'))
      .map((r) => r.resource?.match(/^storage:\/\/hil\/load\/(.+)$/)?.[1])
      .filter((k) => k !== undefined),
  );
  const lost = load.keys.filter((k) => !written.has(k));
  assert.deepEqual(
    lost.slice(0, 5),
    [],
    `${lost.length} of ${load.keys.length} acknowledged writes are not in the trail`,
  );
  return { checked: load.keys.length, from };
}

export function powerCutTests(ctx: SuiteContext): void {
  it('power cut during heavy audit writes: after each boot audit verify passes and nothing acknowledged is lost', async function () {
    const rig = ctx.rig();
    const { powerCuts, bootMs } = box(rig);
    this.timeout(powerCuts * (bootMs + 120_000));
    const power = rig.get('power');
    if (!power.cutLosesPageCache)
      process.stdout.write(`      note: on rig ${rig.name} a "cut" is ${power.describeCut}\n`);
    const seenRuns = new Set<string>();
    const counts: number[] = [];
    try {
      let since: number | undefined;
      for (let i = 0; i < powerCuts; i++) {
        const { checked, from } = await cycle(rig, seenRuns, since);
        counts.push(checked);
        since = from;
      }
      process.stdout.write(`      ${powerCuts} cuts, acknowledged writes checked per cut: ${counts.join(', ')}\n`);
    } finally {
      // Its load would bury the next tests' records: gone whatever happened.
      await rig.get('shell').elastos(['capsule', 'stop', 'hammer']);
      await rig.get('shell').elastos(['capsule', 'remove', 'hammer']);
    }
  });
}
