import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuiltCapsule, buildCapsule, devPublisherKey } from '@elastos/scripts/dist/capsule/build-first-party.js';

const HIL_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./hil-capsule.js', import.meta.url));

/** The suite's capsules (hammer, asker), bundled and signed with the dev publisher key at `keyFile`. */
export async function buildHilCapsules(
  outDir: string,
  keyFile: string,
): Promise<Record<'hammer' | 'asker', BuiltCapsule>> {
  const key = await devPublisherKey(keyFile);
  const one = (name: string) =>
    buildCapsule(name, outDir, key, { manifest: join(HIL_ROOT, 'capsules', name, 'manifest.json'), entry: ENTRY });
  return { hammer: await one('hammer'), asker: await one('asker') };
}
