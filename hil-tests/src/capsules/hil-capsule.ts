/**
 * The suite's two test capsules, one code (its manifest's name picks the part):
 * - `hammer`: writes storage://hil/load/RUN-K from 4 workers as fast as it can for `loadMs` (the
 *   rig's choice, baked in when it builds the capsule: build.ts) and logs `ack RUN K` after each
 *   acknowledged write (the rig checks each one is in the trail after a cut);
 * - `asker`: asks twice for a write the rules leave to the button, logging each outcome.
 */
import { randomBytes } from 'node:crypto';
import { attempt, identity, idle, requestCapability, say, writeFile } from '@elastos/capsule-sdk';

const HOUR = 3_600_000;

async function hammer(loadMs: number): Promise<void> {
  const run = randomBytes(4).toString('hex');
  const grant = await requestCapability({
    audience: 'storage',
    resource: 'storage://hil/load/',
    action: 'write',
    ttlMs: HOUR,
  });
  say(`hammer ${run} start`);
  const end = Date.now() + loadMs;
  let next = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const k = next++;
      await writeFile(`storage://hil/load/${run}-${k}`, grant, Buffer.from(String(k)));
      say(`ack ${run} ${k}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  say(`hammer ${run} done ${next}`);
}

async function ask(): Promise<void> {
  for (const n of [1, 2]) {
    const resource = `storage://hil/asked/${n}`;
    await attempt(`request write ${resource}`, () =>
      requestCapability({ audience: 'storage', resource, action: 'write', ttlMs: 60_000 }),
    );
  }
  say('asker done');
}

/** The capsule's body; the entry build.ts writes calls it with the rig's load time. */
export function startHilCapsule(loadMs: number): void {
  idle();
  (identity().name === 'hammer' ? hammer(loadMs) : ask()).catch((err: Error) =>
    say(`${identity().name} failed: ${err.message}`),
  );
}
