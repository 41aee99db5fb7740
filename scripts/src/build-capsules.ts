/**
 * `npm run build:capsules` (run by scripts/setup): bundles, packs and signs the first-party
 * capsules with the dev publisher key into the dev run dir (.run/dev, or $ELASTOS_DEV_DIR).
 */
import { join, resolve } from 'node:path';
import { buildFirstParty } from './capsule/build-first-party.js';
import { REPO_ROOT } from './workspaces.js';

const devDir = resolve(process.env.ELASTOS_DEV_DIR ?? join(REPO_ROOT, '.run', 'dev'));
const quiet = process.argv.includes('--quiet');

buildFirstParty(join(devDir, 'capsules'), join(devDir, 'publisher.key')).then(
  (built) => {
    const made = built.filter((b) => b.rebuilt);
    if (!quiet || made.length > 0) {
      const names = made.map((b) => `${b.name} ${b.version}`).join(', ') || 'all up to date';
      process.stdout.write(`[build:capsules] ${names}\n`);
    }
  },
  (err: unknown) => {
    process.stderr.write(`error E_INTERNAL: build:capsules: ${(err as Error).message}\n`);
    process.exit(70);
  },
);
