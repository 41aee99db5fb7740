import assert from 'node:assert/strict';
import { boxWorkspaces, NATIVE_FILES, shipped, shippedData, type Workspace } from './workspace-tree.js';

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

  it("ships every file a box package declares: its native builds from the native stage, its data copied (the launcher's seccomp tables)", () => {
    const box = boxWorkspaces();
    const built = new Set(Object.values(NATIVE_FILES).map(([pkg, rel]) => `${pkg}/${rel}`));
    for (const w of box)
      for (const f of w.pkg.files ?? [])
        if (f.split('/').includes('build'))
          assert.ok(built.has(`${w.name}/${f}`), `${w.name}/${f}: no native stage output`);
    const runtime = box.find((w) => w.name === '@elastos/runtime');
    assert.ok(runtime);
    assert.deepEqual(
      shippedData(runtime).filter((f) => f.startsWith('launcher/seccomp/')),
      ['launcher/seccomp/aarch64.json', 'launcher/seccomp/x86_64.json'],
    );
    assert.ok(built.has('@elastos/runtime/native/harden/build/Release/harden.node'));
  });
});
