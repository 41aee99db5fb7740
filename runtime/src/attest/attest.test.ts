import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Tpm } from '@elastos/node-tpm2';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { type VerifiedAttestation, verifyAttestation } from '@elastos/verifier/attest/attestation';
import { type EventLogFile, replay } from '@elastos/verifier/attest/event-log';
import { checkRelease, parseReleaseManifest } from '@elastos/verifier/attest/release';
import fc from 'fast-check';
import { provisionRuntimeKey } from '../boot/provision.js';
import type { BootedRuntime } from '../boot/tpm-boot.js';
import { bootRuntime } from '../boot/tpm-boot.js';
import { parseConfig } from '../config/index.js';
import { ElastosError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import { makeAttestation, writeAttestation } from './attestation.js';

const run = promisify(execFile);

/** The independent verifier: stock tpm2-tools (exit 0 = the quote verifies). */
async function checkquote(dir: string, nonceHex: string, pcrList = 'sha256:11,23'): Promise<boolean> {
  const args = ['-u', 'ak.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'pcrs.values', '-l', pcrList];
  try {
    await run('tpm2_checkquote', [...args, '-g', 'sha256', '-q', nonceHex], { cwd: dir });
    return true;
  } catch {
    return false;
  }
}

type Ops = Parameters<Parameters<Tpm['exclusive']>[0]>[0];
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** A release manifest (runtime/spec/boot.md §5.1) for what this box measured, its boot chain's PCR 11 given. */
function releaseFor(v: VerifiedAttestation, pcr11: string | undefined): Uint8Array {
  const runtime = v.events.slice(0, 4).map(({ type, name, digest }) => ({ type, name, digest }));
  const capsules = v.events.slice(4).map((e) => ({ name: e.name, version: '0.1.0', id: 'cap1x', digest: e.digest }));
  const boot = { version: '7', slots: [{ slot: 'a', pcr11 }] };
  return Buffer.from(
    JSON.stringify({
      format: 'elastos-release/1',
      ...(pcr11 === undefined ? {} : { boot }),
      measuredBoot: { spec: 'x', pcr: v.pcr, runtime, pcrAfterRuntime: replay(v.events.slice(0, 4), v.pcr) },
      capsules,
    }),
  );
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
    assert.deepEqual(v.pcrs, [11, 23]);
    assert.equal(v.nonce, nonce);
    const meta = JSON.parse(readFileSync(join(out, 'attestation.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(meta, {
      version: 2,
      pcr: 23,
      pcrs: [11, 23],
      pcrList: 'sha256:11,23',
      nonce,
      pcrValue: v.pcrValue,
      pcr11: v.pcr11,
    });
    assert.equal(readFileSync(join(out, 'pcrs.values')).toString('hex'), `${v.pcr11}${v.pcrValue}`);
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

  it('verifies against the release whose boot chain (PCR 11) booted, not against one that differs only there', async () => {
    // The UKI's stub and systemd-pcrphase, as on the box; PCR 11 cannot be reset, only extended.
    await booted.tpm?.pcrExtend(11, sha256('UKI of release X'));
    const pcr11 = Buffer.from((await booted.tpm?.pcrRead(11)) ?? []).toString('hex');
    writeAttestation(out, await booted.attest(Buffer.from(nonce, 'hex')));
    assert.equal(await checkquote(out, nonce), true);
    const v = verifyAttestation(out, { nonce: Buffer.from(nonce, 'hex') });
    assert.equal(v.pcr11, pcr11);
    const x = parseReleaseManifest(releaseFor(v, pcr11));
    const y = parseReleaseManifest(releaseFor(v, sha256('PCR 11 of release Y').toString('hex')));
    assert.deepEqual(checkRelease(v, x).boot, { checked: true, slot: 'a', version: '7', pcr11 });
    assert.throws(
      () => checkRelease(v, y),
      (err) =>
        err instanceof ElastosError &&
        err.code === 'E_ATTEST_RELEASE' &&
        err.message.includes(`the box's PCR 11 ${pcr11.slice(0, 16)}…`) &&
        err.message.includes(`slot a ${sha256('PCR 11 of release Y').toString('hex').slice(0, 16)}…`),
    );
    // A release with no boot chain (a dev build): verified as before, and it says PCR 11 was not checked.
    const dev = checkRelease(v, parseReleaseManifest(releaseFor(v, undefined)));
    assert.equal(dev.boot.checked, false);
    assert.deepEqual(dev.capsules, ['demo']);
  });

  it('refuses a claimed PCR 11 the quote did not sign, by both verifiers', async () => {
    writeAttestation(out, await booted.attest(Buffer.from(nonce, 'hex')));
    const values = readFileSync(join(out, 'pcrs.values'));
    const claimed = Buffer.from(values);
    sha256('PCR 11 of release Y').copy(claimed, 0); // another release's PCR 11, the runtime PCR as quoted
    writeFileSync(join(out, 'pcrs.values'), claimed);
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_ATTEST_INVALID',
    );
    assert.equal(await checkquote(out, nonce), false);
    writeFileSync(join(out, 'pcrs.values'), values.subarray(32)); // the runtime PCR alone: not what was quoted
    assert.equal(
      codeOf(() => verifyAttestation(out)),
      'E_ATTEST_INVALID',
    );
  });

  it('accepts a quote of the runtime PCR alone (an older runtime) without PCR 11; refuses other selections', async () => {
    const tpm = booted.tpm;
    assert.ok(tpm);
    const requote = async (pcrs: number[]) => {
      const q = await tpm.quote(pcrs, Buffer.from(nonce, 'hex'));
      writeFileSync(join(out, 'quote.msg'), q.attest);
      writeFileSync(join(out, 'quote.sig'), q.signature);
      writeFileSync(join(out, 'pcrs.values'), Buffer.concat(await Promise.all(pcrs.map((p) => tpm.pcrRead(p)))));
    };
    await requote([23]);
    assert.equal(await checkquote(out, nonce, 'sha256:23'), true);
    const v = verifyAttestation(out, { nonce: Buffer.from(nonce, 'hex') });
    assert.deepEqual([v.pcrs, v.pcr11], [[23], undefined]);
    assert.throws(
      () => checkRelease(v, parseReleaseManifest(releaseFor(v, 'ab'.repeat(32)))),
      (err) =>
        err instanceof ElastosError && err.code === 'E_ATTEST_RELEASE' && /does not quote PCR 11/.test(err.message),
    );
    for (const pcrs of [[7, 23], [11], [11, 16, 23]]) {
      await requote(pcrs);
      assert.equal(
        codeOf(() => verifyAttestation(out)),
        'E_ATTEST_INVALID',
        String(pcrs),
      );
    }
  });

  it('reads and quotes again when PCR 11 moves between the read and the quote (systemd-pcrphase)', async () => {
    const tpm = booted.tpm;
    assert.ok(tpm);
    let quotes = 0;
    // The runtime's TPM, but PCR 11 is extended (as by another process) just before the first quote.
    const moving = {
      exclusive: <T>(fn: (ops: Ops) => Promise<T>) =>
        tpm.exclusive((ops) =>
          fn(
            Object.assign(Object.create(ops) as Ops, {
              quote: async (pcrs: number[], n: Uint8Array) => {
                if (quotes++ === 0) await ops.pcrExtend(11, sha256('phase: shutdown'));
                return ops.quote(pcrs, n);
              },
            }),
          ),
        ),
    } as unknown as Tpm;
    const log = JSON.parse(readFileSync(join(out, 'eventlog.json'), 'utf8')) as EventLogFile;
    writeAttestation(out, await makeAttestation(moving, 23, Buffer.from(nonce, 'hex'), log));
    assert.equal(quotes, 2);
    const v = verifyAttestation(out, { nonce: Buffer.from(nonce, 'hex') });
    assert.equal(v.pcr11, Buffer.from(await tpm.pcrRead(11)).toString('hex'));
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
