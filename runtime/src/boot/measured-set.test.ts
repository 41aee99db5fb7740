import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, realpathSync, statSync, truncateSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { type ElastosConfig, parseConfig } from '../config/index.js';
import { hasCode } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import { provisionRuntimeKey } from './provision.js';
import { bootRuntime } from './tpm-boot.js';

const RUNTIME = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(join(RUNTIME, 'package.json'));

/** Native addons this process has mapped (read from the kernel, not from a list of ours). */
const mappedAddons = (): string[] => [
  ...new Set(
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.slice(l.indexOf('/')))
      .filter((p) => p.endsWith('.node')),
  ),
];

/** A file of the installed runtime, edited offline as root with the disk would: bytes appended, then restored. */
const EDITS: Array<[string, () => string]> = [
  ["a dependency's JS (@noble/ed25519, which checks every signature)", () => require.resolve('@noble/ed25519')],
  [
    "a dependency's native addon (classic-level's binding, as this process loaded it)",
    () => mappedAddons().find((p) => p.includes('classic-level')) as string,
  ],
  ['the launcher binary (runs as root)', () => join(RUNTIME, 'launcher/build/elastos-launch')],
  ['the peercred addon', () => join(RUNTIME, 'native/peercred/build/Release/peercred.node')],
  ['the harden addon (makes elastosd undumpable)', () => join(RUNTIME, 'native/harden/build/Release/harden.node')],
  [
    "the seccomp allow list the launcher's filter is built from",
    () => join(RUNTIME, `launcher/seccomp/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}.json`),
  ],
  ['the entry script (bin/elastosd)', () => join(RUNTIME, 'bin/elastosd')],
  ["the runtime's own code (dist/)", () => join(RUNTIME, 'dist/index.js')],
];

describe('measured boot: an offline edit of anything the runtime loads is refused (runtime/spec/boot.md §2)', function () {
  this.timeout(60_000);
  const dir = makeTempDir('measured-set-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  const log = createLogger({ name: 'measured-set-test', level: 'fatal' });
  let config: ElastosConfig;
  let store: Store;
  const boot = () => bootRuntime({ config, store, log }).then((b) => b.close());

  before(async () => {
    await swtpm.start();
    config = parseConfig({ profile: 'dev', runDir: 'run', stateDir: 'state', tpm: { tcti: swtpm.tcti } }, dir.path);
    store = await Store.open(join(config.stateDir, 'store'));
    await provisionRuntimeKey(config, store, 'new'); // the installed runtime, measured as a boot does
    await boot();
  });
  after(async () => {
    await store.close();
    await swtpm.stop();
    dir.remove();
  });

  for (const [what, locate] of EDITS)
    it(`refuses to unseal after an edit of ${what} (E_TPM_PCR_MISMATCH), and unseals once it is undone`, async () => {
      const path = locate();
      assert.ok(path && statSync(path).isFile(), `${what}: not found`);
      const size = statSync(path).size;
      appendFileSync(path, '\n// edited offline\n');
      try {
        await assert.rejects(boot(), (e) => hasCode(e, 'E_TPM_PCR_MISMATCH'));
      } finally {
        truncateSync(path, size);
      }
      await boot();
    });

  it('measures every native addon this process mapped, and the Node binary it runs on', async () => {
    const { installedCodeSets } = await import('./measure.js');
    const measured = new Set(
      installedCodeSets()
        .flatMap((s) => s.files())
        .map((f) => realpathSync(f.path)),
    );
    const addons = mappedAddons();
    assert.ok(addons.some((p) => p.includes('classic-level')) && addons.some((p) => p.endsWith('tpm2.node')));
    for (const p of addons) assert.ok(measured.has(realpathSync(p)), `${p} is loaded but not measured`);
    assert.ok(measured.has(realpathSync(process.execPath)), 'the Node binary is not measured');
    assert.ok(measured.has(realpathSync(require.resolve('@noble/ed25519'))), 'a dependency is not measured');
  });
});
