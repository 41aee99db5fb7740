import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../workspaces.js';
import { bundleCapsule, bundleEntry, FIRST_PARTY } from './build-first-party.js';

const RUNTIME_CODE = /^runtime\/(?!protocol\/)/;

describe('capsule bundles hold no runtime code (DESIGN.md "Boundaries", issue 18)', function () {
  this.timeout(60_000);

  for (const name of FIRST_PARTY) {
    it(`${name}: only its own code, the SDK, the contract and third-party packages`, async () => {
      const { inputs, code } = await bundleCapsule(name);
      assert.deepEqual(
        inputs.filter((path) => RUNTIME_CODE.test(path)),
        [],
      );
      assert.ok(
        inputs.some((path) => path.startsWith(`capsules/${name}/`)),
        'its own code is in',
      );
      assert.ok(
        inputs.some((path) => path.startsWith('runtime/protocol/')),
        'the contract is in',
      );
      assert.ok(code.length > 0);
    });
  }

  it('refuses to bundle a capsule that imports the runtime', async () => {
    // Inside the repository, so that the probe resolves the workspace packages as a capsule would.
    mkdirSync(join(REPO_ROOT, '.run'), { recursive: true });
    const dir = mkdtempSync(join(REPO_ROOT, '.run', 'bundle-probe-'));
    try {
      const entry = join(dir, 'main.js');
      writeFileSync(
        entry,
        "import { ElastosError } from '@elastos/runtime/errors/index';\nconsole.log(ElastosError);\n",
      );
      await assert.rejects(bundleEntry(entry, 'probe'), /capsule probe would bundle runtime code \(runtime\/dist\//);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
