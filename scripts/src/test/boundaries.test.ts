import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../workspaces.js';
import { cruise } from './boundaries.js';

/** A small tree laid out like the repository, each file crossing (or keeping) one boundary. */
const PROBE: Record<string, string> = {
  'runtime/protocol/src/codes.ts': "import { core } from '../../src/core.js';\nexport const x = core;\n",
  'runtime/src/core.ts': "import { app } from '../../capsules/app/src/main.js';\nexport const core = app;\n",
  'capsules/sdk/src/index.ts': "import { core } from '../../../runtime/src/core.js';\nexport const sdk = core;\n",
  'capsules/app/src/main.ts':
    "import { sdk } from '../../sdk/src/index.js';\nimport { other } from '../../other/src/main.js';\nexport const app = sdk + other;\n",
  'capsules/other/src/main.ts':
    "import { x } from '../../../runtime/protocol/src/codes.js';\nexport const other = x;\n",
  'firmware-bridge/src/board.ts': "import { core } from '../../runtime/src/core.js';\nexport const b = core;\n",
  'firmware-bridge/src/board.test.ts': "import { core } from '../../runtime/src/core.js';\nexport const t = core;\n",
  'scripts/src/cli/main.ts': "import { core } from '../../../runtime/src/core.js';\nexport const cli = core;\n",
};

describe('boundary rules (.dependency-cruiser.cjs) catch each crossing', function () {
  this.timeout(60_000);
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elastos-boundaries-'));
    copyFileSync(join(REPO_ROOT, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
    for (const [path, text] of Object.entries(PROBE)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the rule broken by every crossing, and none for the allowed imports', () => {
    const { summary } = cruise(['runtime', 'capsules', 'firmware-bridge', 'scripts'], dir);
    const got = summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    assert.deepEqual(got, [
      'bridge-builds-without-runtime: firmware-bridge/src/board.test.ts -> runtime/src/core.ts',
      'bridge-builds-without-runtime: firmware-bridge/src/board.ts -> runtime/src/core.ts',
      'bridge-only-the-contract: firmware-bridge/src/board.ts -> runtime/src/core.ts',
      'capsules-not-each-other: capsules/app/src/main.ts -> capsules/other/src/main.ts',
      'cli-uses-the-public-runtime: scripts/src/cli/main.ts -> runtime/src/core.ts',
      'core-not-tools-or-guests: runtime/src/core.ts -> capsules/app/src/main.ts',
      'protocol-is-a-leaf: runtime/protocol/src/codes.ts -> runtime/src/core.ts',
      'sdk-only-the-contract: capsules/sdk/src/index.ts -> runtime/src/core.ts',
    ]);
  });
});
