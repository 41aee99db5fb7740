import assert from 'node:assert/strict';
import { boxWorkspaces, shipped, type Workspace } from './workspace-tree.js';

const ws = (name: string, deps: string[] = [], dir = name): Workspace => ({
  name,
  dir,
  pkg: { name, dependencies: Object.fromEntries(deps.map((d) => [d, '0.1.0'])) },
});

describe('image: which workspaces go on the box', () => {
  it('from the root package.json: the daemon, the CLI, the MCU bridge and what they depend on, nothing else', () => {
    const names = boxWorkspaces().map((w) => w.name);
    for (const n of ['@elastos/runtime', '@elastos/node-tpm2', '@elastos/scripts', '@elastos/firmware-bridge']) {
      assert.ok(names.includes(n), `${n} is missing`);
    }
    for (const n of ['@elastos/runtime-bench', '@elastos/image-build', '@elastos/capsule-sdk', '@elastos/shell']) {
      assert.ok(!names.includes(n), `${n} must not be on the box`);
    }
  });

  it('a new workspace the runtime depends on (e.g. @elastos/protocol) is found, not hard-coded', () => {
    const all = [
      ws('@elastos/runtime', ['@elastos/protocol', '@elastos/node-tpm2', 'ajv']),
      ws('@elastos/protocol'),
      ws('@elastos/node-tpm2'),
      ws('@elastos/scripts', ['@elastos/runtime']),
      ws('@elastos/firmware-bridge', ['@elastos/protocol']),
      ws('@elastos/runtime-bench', ['@elastos/runtime']),
    ];
    assert.deepEqual(
      boxWorkspaces(all).map((w) => w.name),
      ['@elastos/firmware-bridge', '@elastos/node-tpm2', '@elastos/protocol', '@elastos/runtime', '@elastos/scripts'],
    );
  });

  it('ships package.json, bin/ and dist/ code; never tests, maps, types, fixtures or sources', () => {
    for (const rel of ['', 'package.json', 'bin', 'bin/elastosd', 'dist', 'dist/daemon/main.js'])
      assert.ok(shipped(rel), rel);
    for (const rel of [
      'src',
      'src/index.ts',
      'dist/a.test.js',
      'dist/a.js.map',
      'dist/a.d.ts',
      'dist/x/fixtures/f.js',
      'tsconfig.json',
      'README.md',
    ]) {
      assert.ok(!shipped(rel), rel);
    }
  });
});
