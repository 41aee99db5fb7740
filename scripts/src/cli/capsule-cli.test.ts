import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { REPO_ROOT } from '../workspaces.js';

const ELASTOS = join(REPO_ROOT, 'scripts', 'bin', 'elastos');
const ELASTOSD = join(REPO_ROOT, 'runtime', 'bin', 'elastosd');

describe('elastos capsule and trust commands', function () {
  this.timeout(60_000); // each CLI call is a Node start (~0.2 s on this machine)
  let dir: ReturnType<typeof makeTempDir>;
  let daemon: ChildProcess | undefined;

  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const env = { ...process.env, ELASTOS_CONFIG: join(dir.path, 'config.json') };
      execFile(
        process.execPath,
        [ELASTOS, ...args],
        { encoding: 'utf8', cwd: dir.path, env },
        (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `elastos ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]) => JSON.parse(await ok(['--json', ...args])) as T;

  beforeEach(() => {
    dir = makeTempDir();
    writeFileSync(
      join(dir.path, 'config.json'),
      // No TPM in this test (the TPM room's tests run elastosd on swtpm): dev's explicit insecure mode.
      JSON.stringify({
        profile: 'dev',
        runDir: 'run',
        stateDir: 'state',
        trustDir: 'trust',
        logLevel: 'warn',
        tpm: { insecureNoTpm: true },
      }),
    );
  });
  afterEach(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon?.once('exit', r));
    }
    daemon = undefined;
    dir.remove();
  });

  /** keygen → trust add → new → pack → sign → verify; returns the signed package's id. */
  async function publish(version = '0.1.0'): Promise<string> {
    if (!existsSync(join(dir.path, 'me.key'))) {
      const key = await json<{ keyId: string }>(['capsule', 'keygen', '--out', 'me.key', '--name', 'Me']);
      assert.equal(statSync(join(dir.path, 'me.key')).mode & 0o777, 0o600);
      assert.equal((await json<{ keyId: string }>(['trust', 'add', 'me.key.pub'])).keyId, key.keyId);
      await ok(['capsule', 'new', 'hello']);
    }
    const manifestPath = join(dir.path, 'hello', 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, 'utf8')), version }));
    const packed = await json<{ package: string; id: string }>(['capsule', 'pack', 'hello']);
    assert.equal(packed.package, `hello-${version}.capsule`);
    // Packing is deterministic: same folder, same id.
    assert.equal((await json<{ id: string }>(['capsule', 'pack', 'hello', '--out', 'again.capsule'])).id, packed.id);
    assert.equal((await run(['capsule', 'verify', packed.package])).code, 77); // unsigned
    const signed = await json<{ id: string }>(['capsule', 'sign', packed.package, '--key', 'me.key']);
    const verified = await json<{ ok: boolean; id: string; name: string }>(['capsule', 'verify', packed.package]);
    assert.deepEqual([verified.ok, verified.id, verified.name], [true, signed.id, 'hello']);
    return signed.id;
  }

  it('round trip offline: new, pack, sign, verify, install, list, remove; refusals print their code', async () => {
    const id = await publish();
    const installed = await json<{ id: string; via: string }>(['capsule', 'install', 'hello-0.1.0.capsule']);
    assert.deepEqual([installed.id, installed.via], [id, 'offline']);
    const code = join(dir.path, 'state', 'capsules', 'hello', id, 'code', 'main.js');
    assert.match(readFileSync(code, 'utf8'), /capsule hello started/);
    const again = await run(['capsule', 'install', 'hello-0.1.0.capsule']);
    assert.equal(again.code, 73);
    assert.match(again.stderr, /^error E_CAPSULE_EXISTS: hello 0\.1\.0/);
    const list = await json<{ capsules: Array<{ name: string; id: string }> }>(['capsule', 'list']);
    assert.deepEqual(
      list.capsules.map((c) => [c.name, c.id]),
      [['hello', id]],
    );
    assert.match(await ok(['capsule', 'list']), /^NAME\s+VERSION\s+PUBLISHER\s+ID/);

    const tampered = readFileSync(join(dir.path, 'hello-0.1.0.capsule'));
    const at = tampered.indexOf('started');
    tampered[at] = (tampered[at] ?? 0) ^ 1;
    writeFileSync(join(dir.path, 'tampered.capsule'), tampered);
    const refused = await run(['capsule', 'install', 'tampered.capsule']);
    assert.equal(refused.code, 77);
    assert.match(refused.stderr, /^error E_CAPSULE_HASH: /);

    assert.equal((await json<{ id: string }>(['capsule', 'remove', 'hello'])).id, id);
    assert.deepEqual((await json<{ capsules: unknown[] }>(['capsule', 'list'])).capsules, []);
    assert.equal(existsSync(join(dir.path, 'state', 'capsules', 'hello')), false);
  });

  it('trust list and remove; a package of a removed key is E_CAPSULE_UNTRUSTED', async () => {
    await publish();
    const keys = await json<{ keys: Array<{ keyId: string; name: string }> }>(['trust', 'list']);
    assert.equal(keys.keys.length, 1);
    const keyId = keys.keys[0]?.keyId ?? '';
    await ok(['trust', 'remove', keyId]);
    const r = await run(['capsule', 'verify', 'hello-0.1.0.capsule']);
    assert.equal(r.code, 77);
    assert.match(r.stderr, /^error E_CAPSULE_UNTRUSTED: /);
    assert.equal((await run(['trust', 'remove', keyId])).code, 66);
    const pub = JSON.parse(readFileSync(join(dir.path, 'me.key.pub'), 'utf8')) as { publicKey: string };
    assert.equal(
      (await json<{ keyId: string }>(['trust', 'add', '--name', 'Again', '--key', pub.publicKey])).keyId,
      keyId,
    );
    assert.equal((await run(['trust', 'add', '--key', 'zz'])).code, 65);
  });

  it('goes through the running runtime: install, upgrade, rollback, list, remove', async () => {
    const v1 = await publish('0.1.0');
    const v2 = await publish('0.2.0');
    daemon = spawn(process.execPath, [ELASTOSD, '--config', join(dir.path, 'config.json')], { stdio: 'ignore' });
    const sock = join(dir.path, 'run', 'admin.sock');
    for (let i = 0; i < 500 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    const a = await json<{ id: string; via: string }>(['capsule', 'install', 'hello-0.1.0.capsule']);
    assert.deepEqual([a.id, a.via], [v1, 'online']);
    const b = await json<{ id: string; previous: { id: string } }>(['capsule', 'install', 'hello-0.2.0.capsule']);
    assert.deepEqual([b.id, b.previous.id], [v2, v1]);
    const back = await json<{ id: string; via: string }>(['capsule', 'rollback', 'hello']);
    assert.deepEqual([back.id, back.via], [v1, 'online']);
    const list = await json<{ capsules: Array<{ version: string }>; via: string }>(['capsule', 'list']);
    assert.deepEqual([list.capsules.map((c) => c.version), list.via], [['0.1.0'], 'online']);
    await ok(['capsule', 'remove', 'hello']);
    const gone = await run(['capsule', 'rollback', 'hello']);
    assert.equal(gone.code, 66);
    assert.match(gone.stderr, /^error E_NOT_FOUND: /);
  });
});
