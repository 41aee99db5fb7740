import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuiltCapsule, buildCapsule, devPublisherKey } from '@elastos/scripts/dist/capsule/build-first-party.js';

const HIL_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BODY = fileURLToPath(new URL('./hil-capsule.js', import.meta.url));

/**
 * The suite's capsules (hammer, asker), bundled and signed with the dev publisher key at `keyFile`.
 * `loadMs`: how long the hammer writes after it starts. It must still be writing when the rig's
 * log follower has attached and the cut comes: 20 s on the local rig, minutes under emulation.
 */
export async function buildHilCapsules(
  outDir: string,
  keyFile: string,
  loadMs = 20_000,
): Promise<Record<'hammer' | 'asker', BuiltCapsule>> {
  const key = await devPublisherKey(keyFile);
  mkdirSync(outDir, { recursive: true });
  const entry = join(outDir, 'hil-entry.js');
  writeFileSync(entry, `import { startHilCapsule } from ${JSON.stringify(BODY)};\nstartHilCapsule(${loadMs});\n`);
  const one = (name: string) =>
    buildCapsule(name, outDir, key, { manifest: join(HIL_ROOT, 'capsules', name, 'manifest.json'), entry });
  return { hammer: await one('hammer'), asker: await one('asker') };
}
