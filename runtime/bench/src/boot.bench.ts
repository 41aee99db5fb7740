// `npm run bench`: TPM operation medians against a private swtpm, each with a GetRandom round
// trip measured in the same run as its baseline; boot-to-key-unsealed against hashing alone.
import { join } from 'node:path';
import { pcrPolicyDigest, Tpm } from '@elastos/node-tpm2';
import { installedCodeSets, setDigest } from '@elastos/runtime/boot/measure';
import { provisionRuntimeKey } from '@elastos/runtime/boot/provision';
import { bootRuntime } from '@elastos/runtime/boot/tpm-boot';
import { parseConfig } from '@elastos/runtime/config/index';
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
