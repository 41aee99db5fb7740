import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { parseEventLog, replay } from '@elastos/verifier/attest/event-log';
import * as ed from '@noble/ed25519';
import {
  type AuditEvent,
  AuditLog,
  type AuditReceipt,
  type AuditRecord,
  type AuditSink,
  decodeRecord,
} from '../audit/index.js';
import { type ElastosConfig, parseConfig } from '../config/index.js';
import { readSealedRecord, SEALED_KEY } from '../keys/sealed-key.js';
import { createLogger } from '../log/index.js';
import { type BatchOp, Store } from '../store/index.js';
import { treeSet } from './measure.js';
import { provisionRuntimeKey } from './provision.js';
import { bootRuntime, eventLogPath } from './tpm-boot.js';

/** The real audit trail over the test store; each view reads back what was committed after it was made. */
class AuditView implements AuditSink {
  private static committed: AuditRecord[] = [];
  private static log: AuditLog | undefined;
  private readonly mark = AuditView.committed.length;

  static async open(store: Store): Promise<void> {
    AuditView.log = await AuditLog.open(store);
    AuditView.log.onCommit((rs) => {
      for (const r of rs) AuditView.committed.push(decodeRecord(r.bytes));
    });
  }
  static close(): Promise<void> | undefined {
    return AuditView.log?.close();
  }
  get events(): AuditRecord[] {
    return AuditView.committed.slice(this.mark);
  }
  append(event: AuditEvent, ops?: BatchOp[]): Promise<AuditReceipt> {
    if (!AuditView.log) throw new Error('AuditView.open first');
    return AuditView.log.append(event, ops);
  }
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.equal((err as { code?: string }).code, code, (err as Error).message);
    assert.doesNotMatch((err as Error).message, /\n/);
    return err as Error;
  }
  assert.fail(`expected ${code}`);
}

describe('measured boot and the sealed runtime key (swtpm)', function () {
  this.timeout(30_000);
  const dir = makeTempDir('boot-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  const log = createLogger({ name: 'boot-test', level: 'fatal' });
  const codeDir = join(dir.path, 'code');
  const codeSets = [treeSet('runtime.code', 'test', codeDir, ['package.json', 'dist'])];
  let config: ElastosConfig;
  let store: Store;

  const boot = (extra: { audit?: AuditSink; insecureNoTpm?: boolean } = {}) =>
    bootRuntime({ config, store, log, codeSets, ...extra });

  before(async () => {
    await swtpm.start();
    writeFileSync(join(dir.path, 'package.json'), '{}');
    config = parseConfig({ profile: 'dev', runDir: 'run', stateDir: 'state', tpm: { tcti: swtpm.tcti } }, dir.path);
    store = await Store.open(join(config.stateDir, 'store'));
    await AuditView.open(store);
  });
  beforeEach(() => {
    makeCodeTree(codeDir);
  });
  afterEach(async () => {
    await swtpm.assertNoLeaks();
  });
  after(async () => {
    await AuditView.close();
    await store.close();
    await swtpm.stop();
    dir.remove();
  });

  it('refuses to boot before provisioning, audited', async () => {
    const audit = new AuditView();
    await rejectsWith(boot({ audit }), 'E_TPM_NOT_PROVISIONED');
    assert.deepEqual(
      audit.events.map((e) => [e.type, e.code]),
      [['boot.refused', 'E_TPM_NOT_PROVISIONED']],
    );
  });

  it('provisions on first boot, then unseals the same key on every boot', async () => {
    const first = await provisionRuntimeKey(config, store, 'new', codeSets);
    assert.equal(first.action, 'provisioned');
    await rejectsWith(provisionRuntimeKey(config, store, 'new', codeSets), 'E_TPM_PROVISIONED');
    for (let i = 0; i < 2; i++) {
      const audit = new AuditView();
      const booted = await boot({ audit });
      try {
        assert.equal(booted.key.keyId, first.keyId);
        assert.equal(Buffer.from(booted.key.publicKey).toString('hex'), first.publicKey);
        const msg = Buffer.from('checkpoint');
        assert.ok(await ed.verifyAsync(await booted.key.sign(msg), msg, booted.key.publicKey));
        assert.deepEqual(
          audit.events.map((e) => e.type),
          ['boot.measured', 'boot.unsealed'],
        );
        const file = parseEventLog(readFileSync(eventLogPath(config)));
        assert.deepEqual(
          file.events.map((e) => e.type),
          ['runtime.code', 'runtime.config', 'trust.store'],
        );
        const pcr = Buffer.from((await booted.tpm?.pcrRead(23)) ?? []).toString('hex');
        assert.equal(replay(file.events, 23), pcr);
        assert.equal(pcr, first.pcrValue);
      } finally {
        await booted.close();
      }
    }
    assert.equal((await provisionRuntimeKey(config, store, 'if-needed', codeSets)).action, 'unchanged');
  });

  it('refuses a changed runtime file, config or trust store with E_TPM_PCR_MISMATCH, audited', async () => {
    writeFileSync(join(codeDir, 'dist', 'main.js'), 'export const tampered = true;\n');
    const audit = new AuditView();
    const err = await rejectsWith(boot({ audit }), 'E_TPM_PCR_MISMATCH');
    assert.match(err.message, /refusing to start/);
    assert.equal(audit.events.at(-1)?.type, 'boot.refused');
    assert.equal(audit.events.at(-1)?.code, 'E_TPM_PCR_MISMATCH');
    await rejectsWith(provisionRuntimeKey(config, store, 'if-needed', codeSets), 'E_TPM_PCR_MISMATCH');

    makeCodeTree(codeDir);
    const saved = config;
    config = { ...config, logLevel: 'debug' };
    await rejectsWith(boot(), 'E_TPM_PCR_MISMATCH');
    config = saved;

    writeFileSync(join(dir.path, 'trust-key.pub'), 'not measured: outside the trust dir');
    const booted = await boot();
    await booted.close();
    mkdirSync(config.trustDir, { recursive: true }); // an empty trust store measures like a missing one
    await (await boot()).close();
    writeFileSync(join(config.trustDir, 'publisher.pub'), 'a new publisher key');
    await rejectsWith(boot(), 'E_TPM_PCR_MISMATCH');
  });

  it('reseals a new key after an authorised update', async () => {
    const before = await readSealedRecord(store);
    const r = await provisionRuntimeKey(config, store, 'reseal', codeSets);
    assert.equal(r.action, 'resealed');
    assert.equal(r.previousKeyId, before?.keyId);
    assert.notEqual(r.keyId, before?.keyId);
    const booted = await boot();
    assert.equal(booted.key.keyId, r.keyId);
    await booted.close();
  });

  it('never writes the key seed in clear: only the sealed blob is in the store', async () => {
    const record = await readSealedRecord(store);
    assert.ok(record);
    const tpm = await Tpm.open(config.tpm.tcti);
    const booted = await boot();
    const seed = Buffer.from(
      await tpm.unseal(
        { private: Buffer.from(record.private, 'base64'), public: Buffer.from(record.public, 'base64') },
        23,
      ),
    );
    await booted.close();
    await tpm.close();
    const storeDir = join(config.stateDir, 'store');
    for (const name of readdirSync(storeDir)) {
      assert.equal(readFileSync(join(storeDir, name)).includes(seed), false, `seed found in ${name}`);
    }
  });

  it('answers a corrupt sealed blob with E_TPM_SEALED_CORRUPT', async () => {
    const good = await store.get('meta', SEALED_KEY);
    assert.ok(good);
    const record = JSON.parse(Buffer.from(good).toString()) as { private: string };
    const priv = Buffer.from(record.private, 'base64');
    priv[priv.length - 5] = (priv[priv.length - 5] ?? 0) ^ 0x01;
    await store.put('meta', SEALED_KEY, Buffer.from(JSON.stringify({ ...record, private: priv.toString('base64') })));
    await rejectsWith(boot(), 'E_TPM_SEALED_CORRUPT');
    await store.put('meta', SEALED_KEY, Buffer.from('{"version":1,'));
    await rejectsWith(boot(), 'E_TPM_SEALED_CORRUPT');
    await store.put('meta', SEALED_KEY, good);
    await (await boot()).close();
  });

  it('measures a capsule into the PCR and the event log, and audits a refusal', async () => {
    const audit = new AuditView();
    const booted = await boot({ audit });
    try {
      const digest = '11'.repeat(32);
      await booted.measureCapsule('photo-editor', digest);
      await booted.refuseCapsule('evil', 'E_CAPSULE_SIGNATURE', 'signature does not verify');
      const events = booted.measured?.log.events ?? [];
      assert.deepEqual(events.at(-1), { seq: 3, pcr: 23, type: 'capsule', name: 'photo-editor', digest });
      assert.equal(replay(events, 23), Buffer.from((await booted.tpm?.pcrRead(23)) ?? []).toString('hex'));
      const refused = audit.events.find((e) => e.type === 'capsule.refused');
      assert.equal(refused?.code, 'E_CAPSULE_SIGNATURE');
      assert.equal(refused?.resource, 'evil');
      await assert.rejects(booted.measureCapsule('x', 'nothex'), RangeError);
    } finally {
      await booted.close();
    }
  });

  it('keeps boot events until the audit trail is attached, then appends them first, in order', async () => {
    const booted = await boot();
    try {
      assert.deepEqual(booted.audit.waiting, ['boot.measured', 'boot.unsealed']);
      const audit = new AuditView();
      await booted.attachAudit(audit);
      await booted.measureCapsule('late', '22'.repeat(32));
      assert.deepEqual(
        audit.events.map((e) => e.type),
        ['boot.measured', 'boot.unsealed', 'capsule.measured'],
      );
      assert.deepEqual(booted.audit.waiting, []);
    } finally {
      await booted.close();
    }
  });

  it('anchors audit checkpoints in an NV extend index and counter on the same connection', async () => {
    const booted = await boot();
    try {
      const indices = { extendIndex: 0x01500200, counterIndex: 0x01500201 };
      const anchor = await booted.nvAnchor(indices);
      const first = await anchor.read();
      assert.equal(Buffer.from(first.extend).toString('hex'), '00'.repeat(32));
      const hash = createHash('sha256').update('checkpoint 1').digest();
      await anchor.extend(hash);
      await anchor.increment();
      const second = await (await booted.nvAnchor(indices)).read();
      const expected = createHash('sha256').update(Buffer.alloc(32)).update(hash).digest('hex');
      assert.equal(Buffer.from(second.extend).toString('hex'), expected);
      assert.equal(second.counter, first.counter + 1);
      // The stock tools read the same index with owner auth (the offline audit verifier does).
      const file = join(dir.path, 'nv.bin');
      await swtpm.tpm2('tpm2_nvread', ['-C', 'o', '-s', '32', '-o', file, '0x1500200']);
      assert.equal(readFileSync(file).toString('hex'), expected);
      await booted.tpm?.nvUndefine(indices.extendIndex);
      await booted.tpm?.nvUndefine(indices.counterIndex);
    } finally {
      await booted.close();
    }
  });

  it('runs without a TPM only in dev with --insecure-no-tpm, audited', async () => {
    const audit = new AuditView();
    const insecure = await boot({ audit, insecureNoTpm: true });
    assert.equal(insecure.insecure, true);
    assert.equal(insecure.key.keyId.length, 16);
    assert.equal(audit.events[0]?.type, 'boot.insecure-no-tpm');
    await rejectsWith(insecure.attest(Buffer.from('ab', 'hex')), 'E_TPM_INSECURE');
    const saved = config;
    config = { ...config, profile: 'production' };
    await rejectsWith(boot({ insecureNoTpm: true }), 'E_TPM_INSECURE');
    config = { ...config, tpm: { ...config.tpm, tcti: `swtpm:path=${join(dir.path, 'none')}` } };
    await rejectsWith(boot(), 'E_TPM_UNAVAILABLE');
    config = { ...config, profile: 'dev' };
    const err = await rejectsWith(boot(), 'E_TPM_UNAVAILABLE');
    assert.match(err.message, /--insecure-no-tpm/);
    config = { ...saved, tpm: { ...saved.tpm, pcr: 10 } };
    await rejectsWith(boot(), 'E_CONFIG_INVALID');
    config = saved;
  });
});

function makeCodeTree(root: string): void {
  for (const [name, text] of [
    ['package.json', '{"name":"test-runtime"}'],
    ['dist/main.js', 'export const main = 1;\n'],
    ['dist/sub/lib.js', 'export const lib = 2;\n'],
  ] as const) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}
