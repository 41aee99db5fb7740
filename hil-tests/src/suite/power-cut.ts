import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import type { Follower } from '../protocols.js';
import type { Rig } from '../rig.js';
import { box, headSeq, runHilCapsule, type SuiteContext, scaled, trailAfter, waitRuntime } from './helpers.js';

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
 * One cycle: load, a cut at a random moment, boot, then the checks. Returns how many acks it checked.
 * Every cycle (re)starts the hammer after it took the trail's head: the run it checks begins after
 * `from` (the one the runtime started at boot may be done or half done, and its records may be
 * older than `from`), and is still writing when the log follower attaches on a slow rig.
 */
async function cycle(rig: Rig, seenRuns: Set<string>): Promise<number> {
  const from = await headSeq(rig);
  await runHilCapsule(rig, 'hammer');
  const follower = rig.get('shell').follow(['capsule', 'logs', 'hammer', '-f', '--lines', '5']);
  try {
    await pollFor(
      'the hammer to write',
      async () => ((acked(follower, seenRuns)?.keys.length ?? 0) >= 20 ? true : undefined),
      Math.max(60_000, box(rig).bootMs / 3),
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
  const verify = await rig.get('shell').elastos(['audit', 'verify'], scaled(rig, 300_000));
  assert.equal(verify.code, 0, `audit verify after the cut: ${verify.stderr}`);
  const written = new Set(
    (await trailAfter(rig, from, 'hammer'))
      .map((r) => r.resource?.match(/^storage:\/\/hil\/load\/(.+)$/)?.[1])
      .filter((k) => k !== undefined),
  );
  const lost = load.keys.filter((k) => !written.has(k));
  assert.deepEqual(
    lost.slice(0, 5),
    [],
    `${lost.length} of ${load.keys.length} acknowledged writes are not in the trail`,
  );
  return load.keys.length;
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
      for (let i = 0; i < powerCuts; i++) {
        counts.push(await cycle(rig, seenRuns));
        rig.say(`cut ${i + 1}/${powerCuts}: ${counts.at(-1)} acknowledged writes, every one in the trail`);
      }
      process.stdout.write(`      ${powerCuts} cuts, acknowledged writes checked per cut: ${counts.join(', ')}\n`);
    } finally {
      // Its load would bury the next tests' records: gone whatever happened.
      await rig.get('shell').elastos(['capsule', 'stop', 'hammer']);
      await rig.get('shell').elastos(['capsule', 'remove', 'hammer']);
    }
  });
}
