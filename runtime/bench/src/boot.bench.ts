// `npm run bench`: TPM operation medians against a private swtpm, each with a GetRandom round
// trip measured in the same run as its baseline; boot-to-key-unsealed against hashing alone;
// the unseal through a signed PCR policy (PolicyAuthorize) against the plain PCR-policy unseal.
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import {
  authorizePolicyDigest,
  pcrPolicyDigest,
  pcrsPolicyDigest,
  rsassaSignature,
  signerPublic,
  Tpm,
} from '@elastos/node-tpm2';
import { installedCodeSets, setDigest } from '@elastos/runtime/boot/measure';
import { provisionRuntimeKey } from '@elastos/runtime/boot/provision';
import { POLICY_REF, parseSignedPolicy, signPcrPolicy } from '@elastos/runtime/boot/signed-policy';
import { bootRuntime } from '@elastos/runtime/boot/tpm-boot';
import { parseConfig } from '@elastos/runtime/config/index';
import { sealAuthorizedKey, unsealAuthorizedKey } from '@elastos/runtime/keys/authorized-key';
import { readSealedRecord, sealNewKey, unsealPcrKey } from '@elastos/runtime/keys/sealed-key';
import { createLogger } from '@elastos/runtime/log/index';
import { Store } from '@elastos/runtime/store/index';
import { makeTempDir, Swtpm } from '@elastos/testkit';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
async function timeMs(n: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

/** Medians of `a` and `b` measured alternately (same run, same load), `n` samples each. */
async function pairMs(n: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await a();
    sa.push(performance.now() - t);
    t = performance.now();
    await b();
    sb.push(performance.now() - t);
  }
  return [median(sa), median(sb)];
}

/**
 * The unseal through the vendor's signed policy (runtime/spec/boot.md §4.1: LoadExternal,
 * VerifySignature, PolicyPCR, PolicyAuthorize, Unseal) against the plain PolicyPCR unseal (§4),
 * alternated in one run: the TPM calls alone, then the runtime key's whole unseal (PCR reads,
 * matching the file's entries, the key's derivation) for both kinds of record.
 */
async function policyRows(tpm: Tpm, store: Store): Promise<Array<Record<string, unknown>>> {
  const vendor = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = signerPublic(vendor.publicKey);
  await tpm.pcrReset(16);
  const v16 = await tpm.pcrRead(16);
  const v23 = await tpm.pcrRead(23);
  const plain = await tpm.seal(new Uint8Array(32).fill(2), pcrPolicyDigest(16, v16));
  const authorized = await tpm.seal(new Uint8Array(32).fill(3), authorizePolicyDigest(signer.name, POLICY_REF));
  const text = signPcrPolicy('1', vendor.privateKey, [
    { label: 'bench', pcrs: { 16: Buffer.from(v16).toString('hex'), 23: Buffer.from(v23).toString('hex') } },
  ]);
  const file = parseSignedPolicy(Buffer.from(text));
  const entry = file.policies[0];
  if (!entry) throw new Error('no entry');
  const approved = pcrsPolicyDigest([
    { pcr: 16, value: v16 },
    { pcr: 23, value: v23 },
  ]);
  const policy = { pcrs: [16, 23], approved, policyRef: POLICY_REF, signerPublic: signer.public };
  const [auth, base] = await pairMs(
    30,
    () => tpm.unsealAuthorized(authorized, { ...policy, signature: rsassaSignature(entry.signature) }),
    () => tpm.unseal(plain, 16),
  );
  const pcrRecord = await sealNewKey(tpm, store, 16, Buffer.from(v16).toString('hex'));
  const authRecord = await sealAuthorizedKey(
    tpm,
    store,
    String(vendor.publicKey.export({ format: 'pem', type: 'spki' })),
    file,
  );
  if ((await readSealedRecord(store))?.keyId !== authRecord.keyId) throw new Error('record not stored');
  const [keyAuth, keyBase] = await pairMs(
    30,
    () => unsealAuthorizedKey(tpm, authRecord, file),
    () => unsealPcrKey(tpm, pcrRecord, 16),
  );
  return [
    // Goal: the signed policy costs one LoadExternal and one VerifySignature more, once per start.
    { name: 'tpm.unseal-policyauthorize', value: auth, unit: 'ms', baseline: base, ratio: auth / base, goal: '< 2x' },
    {
      name: 'key.unseal-signed-policy',
      value: keyAuth,
      unit: 'ms',
      baseline: keyBase,
      ratio: keyAuth / keyBase,
      goal: '< 2x',
    },
  ];
}

async function main(): Promise<void> {
  const dir = makeTempDir('bench-tpm-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  await swtpm.start();
  const config = parseConfig({ profile: 'dev', runDir: 'run', stateDir: 'state', tpm: { tcti: swtpm.tcti } }, dir.path);
  const store = await Store.open(join(config.stateDir, 'store'));
  const rows: Array<Record<string, unknown>> = [];
  try {
    await provisionRuntimeKey(config, store, 'new');
    const log = createLogger({ name: 'bench', level: 'fatal' });
    // Baseline: listing and hashing the measured set alone (what boot must read, every start).
    const hashOnly = await timeMs(10, () =>
      Promise.all(installedCodeSets(config.confine).map((c) => setDigest(c.files()))),
    );
    const boot = await timeMs(10, async () => (await bootRuntime({ config, store, log })).close());
    rows.push({
      name: 'tpm.boot-to-key-unsealed',
      value: boot,
      unit: 'ms',
      baseline: hashOnly,
      ratio: boot / hashOnly,
    });

    const tpm = await Tpm.open(config.tpm.tcti);
    const pcr = 16;
    await tpm.pcrReset(pcr);
    const sealed = await tpm.seal(new Uint8Array(32).fill(2), pcrPolicyDigest(pcr, await tpm.pcrRead(pcr)));
    await tpm.nvDefine(0x01500100, 'counter');
    await tpm.nvDefine(0x01500101, 'extend');
    const ops: Array<[string, number, () => Promise<unknown>]> = [
      ['pcr-extend', 100, () => tpm.pcrExtend(23, new Uint8Array(32))],
      ['pcr-read', 100, () => tpm.pcrRead(23)],
      ['create-primary-p256+flush', 20, () => tpm.createPrimary('storage').then((k) => tpm.flush(k.handle))],
      ['seal', 20, () => tpm.seal(new Uint8Array(32), new Uint8Array(32))],
      ['unseal-salted', 20, () => tpm.unseal(sealed, pcr)],
      ['quote', 20, () => tpm.quote(23, new Uint8Array(16))],
      ['nv-increment', 50, () => tpm.nvIncrement(0x01500100)],
      ['nv-extend', 50, () => tpm.nvExtend(0x01500101, new Uint8Array(32))],
    ];
    for (const [name, n, fn] of ops) {
      const baseline = await timeMs(100, () => tpm.getRandom(32));
      const value = await timeMs(n, fn);
      rows.push({ name: `tpm.${name}`, value, unit: 'ms', baseline, ratio: value / baseline });
    }
    await tpm.nvUndefine(0x01500100);
    await tpm.nvUndefine(0x01500101);
    rows.push(...(await policyRows(tpm, store)));
    await tpm.close();
    await swtpm.assertNoLeaks();
  } finally {
    await store.close();
    await swtpm.stop();
    dir.remove();
  }
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

await main();
