import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { verifyAttestation } from '@elastos/verifier/attest/attestation';
import fc from 'fast-check';
import { provisionRuntimeKey } from '../boot/provision.js';
import type { BootedRuntime } from '../boot/tpm-boot.js';
import { bootRuntime } from '../boot/tpm-boot.js';
import { parseConfig } from '../config/index.js';
import { ElastosError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import { writeAttestation } from './attestation.js';

const run = promisify(execFile);

/** The independent verifier: stock tpm2-tools (exit 0 = the quote verifies). */
async function checkquote(dir: string, nonceHex: string): Promise<boolean> {
  const args = ['-u', 'ak.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'pcrs.values', '-l', 'sha256:23'];
  try {
    await run('tpm2_checkquote', [...args, '-g', 'sha256', '-q', nonceHex], { cwd: dir });
    return true;
  } catch {
    return false;
  }
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ElastosError, `not an ElastosError: ${String(err)}`);
    return err.code;
  }
  return undefined;
}

describe('attestation: quote + event log, checked by tpm2_checkquote and verifyAttestation', function () {
  this.timeout(30_000);
  const dir = makeTempDir('attest-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  const out = join(dir.path, 'att');
  const nonce = 'c0ffee0123456789';
  let store: Store;
  let booted: BootedRuntime;

  before(async () => {
    await swtpm.start();
    const config = parseConfig(
      { profile: 'dev', runDir: 'run', stateDir: 'state', tpm: { tcti: swtpm.tcti } },
      dir.path,
    );
    store = await Store.open(join(config.stateDir, 'store'));
    await provisionRuntimeKey(config, store, 'new');
    booted = await bootRuntime({ config, store, log: createLogger({ name: 't', level: 'fatal' }) });
    await booted.measureCapsule('demo', 'ab'.repeat(32));
  });
  beforeEach(async () => {
    rmSync(out, { recursive: true, force: true });
    writeAttestation(out, await booted.attest(Buffer.from(nonce, 'hex')));
  });
  after(async () => {
    await booted.close();
    await store.close();
    await swtpm.assertNoLeaks();
    await swtpm.stop();
    dir.remove();
  });

  it('is accepted by tpm2_checkquote and by verifyAttestation with the right nonce', async () => {
    assert.equal(await checkquote(out, nonce), true);
    const v = verifyAttestation(out, { nonce: Buffer.from(nonce, 'hex') });
    assert.equal(v.pcr, 23);
    assert.equal(v.nonce, nonce);
    assert.deepEqual(
      v.events.map((e) => e.type),
      ['runtime.code', 'runtime.exec', 'runtime.config', 'trust.store', 'capsule'],
    );
  });

  it('is rejected for a wrong (stale) nonce by both verifiers', async () => {
    assert.equal(await checkquote(out, 'c0ffee0123456788'), false);
    assert.equal(
      codeOf(() => verifyAttestation(out, { nonce: Buffer.from('c0ffee0123456788', 'hex') })),
      'E_ATTEST_NONCE',
    );
  });

  it('is rejected for an edited event log', () => {
    const path = join(out, 'eventlog.json');
    const log = JSON.parse(readFileSync(path, 'utf8')) as { events: Array<{ digest: string }> };
    const capsule = log.events[4];
    assert.ok(capsule);
    capsule.digest = 'cd'.repeat(32);
    writeFileSync(path, JSON.stringify(log));
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_EVENTLOG_MISMATCH',
    );
    log.events.pop();
    writeFileSync(path, JSON.stringify(log));
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_EVENTLOG_MISMATCH',
    );
  });

  it('is rejected for edited PCR values, quote or signature, and a missing file', async () => {
    const edit = (name: string, at: number) => {
      const b = readFileSync(join(out, name));
      b[at] = (b[at] ?? 0) ^ 0x01;
      writeFileSync(join(out, name), b);
    };
    edit('pcrs.values', 0);
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_ATTEST_INVALID',
    );
    assert.equal(await checkquote(out, nonce), false);
    writeAttestation(out, await booted.attest(Buffer.from(nonce, 'hex')));
    edit('quote.msg', 40);
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_ATTEST_INVALID',
    );
    writeAttestation(out, await booted.attest(Buffer.from(nonce, 'hex')));
    edit('quote.sig', 10);
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_ATTEST_INVALID',
    );
    rmSync(join(out, 'ak.pub'));
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_ATTEST_INVALID',
    );
  });

  it('never crashes on arbitrary bytes in any part: it rejects with a code', () => {
    const parts = ['quote.msg', 'quote.sig', 'ak.pub', 'pcrs.values', 'eventlog.json'] as const;
    const originals = Object.fromEntries(parts.map((p) => [p, readFileSync(join(out, p))]));
    fc.assert(
      fc.property(fc.constantFrom(...parts), fc.uint8Array({ maxLength: 200 }), (part, bytes) => {
        writeFileSync(join(out, part), bytes);
        const code = codeOf(() => verifyAttestation(out));
        writeFileSync(join(out, part), originals[part] as Buffer);
        return code !== undefined;
      }),
      { numRuns: 300 },
    );
  });
});
