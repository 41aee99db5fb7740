/**
 * `npm run image:test -- --arch arm64|amd64`: builds the image (stages cached), then boots it
 * twice in QEMU with swtpm and the MCU simulator and checks what image-build/README.md lists.
 * Prints a short report (build and boot times, sizes); its last line is `N passed, N failed`.
 * Everything it starts is stopped by pid, pass or fail; every wait is bounded.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FIRST_PARTY } from '@elastos/scripts/dist/capsule/build-first-party.js';
import { profile } from './arch.js';
import { chainChecks, espChecks, pcr11Of, waitForBoot } from './boot-chain-checks.js';
import {
  attestOverSsh,
  auditVerify,
  checkquote,
  hostVerify,
  manifestDifferences,
  otherReleaseManifest,
  tpmStatus,
  waitForCapsules,
} from './boot-checks.js';
import { buildImage, DEFAULT_OUT } from './build.js';
import { BOOT_PACKAGES, BUILD_PACKAGES, ensurePackages } from './prereq.js';
import { hungResetNote, QemuBox } from './qemu-box.js';
import { copySlot, installUki, readJsonFile } from './slot-rig.js';
import { makeAdminKey, SshClient } from './ssh-client.js';
import { Checks } from './test-report.js';
import { type BootInfo, ukiName } from './uki.js';
import { REPO_ROOT } from './workspace-tree.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'arm64' },
    port: { type: 'string', default: '0' },
    // Boot the image already built (while working on the test itself).
    'no-build': { type: 'boolean', default: false },
  },
});
const p = profile(values.arch ?? 'arm64');
const outDir = join(DEFAULT_OUT, p.arch);
const dir = join(outDir, 'boot-test');
const sshPort = Number(values.port) || 20000 + (process.pid % 20000);
const BOOT_MS = 15 * 60_000;
/** A measured runtime file (runtime/spec/boot.md §2.3): changing it must keep the key sealed. */
// The daemon's entry, which only elastosd loads: under dm-verity the changed block is an I/O error,
// so elastosd cannot start while elastos-boot-health (which imports the runtime's index.js) still
// runs and gives its verdict.
const TAMPERED_FILE = '/usr/lib/elastos/node_modules/@elastos/runtime/bin/elastosd';
const checks = new Checks();
let box: QemuBox | undefined;

/** A fresh copy of the image, with the test's admin key dropped on its boot partition (first-boot import). */
function prepareDisk(pub: string): string {
  const disk = join(dir, 'disk.img');
  execFileSync('cp', ['--sparse=always', join(outDir, 'disk.img'), disk]);
  execFileSync('mcopy', ['-i', `${disk}@@1M`, pub, '::/elastos-admin.pub']);
  return disk;
}

const bootInfo = () => (JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { boot: BootInfo }).boot;

async function boot(n: number, disk: string, reboot = false): Promise<QemuBox> {
  const b = new QemuBox({ arch: p.arch, imageDir: outDir, disk, dir, sshPort, reboot });
  // Each boot's console stays for the report (QemuBox starts a fresh console.log).
  if (existsSync(b.console)) renameSync(b.console, join(dir, `console-boot-${n - 1}.log`));
  box = b;
  await b.start();
  checks.say(
    `boot ${n}: qemu pid ${b.pids.qemu}, swtpm pid ${b.pids.swtpm}, MCU simulator pid ${b.pids.mcu}, ssh 127.0.0.1:${sshPort}`,
  );
  return b;
}

async function firstBoot(ssh: SshClient, disk: string): Promise<{ keyId?: string; records: number }> {
  const t0 = Date.now();
  const b = await boot(1, disk);
  await checks.run('first boot provisions the TPM-sealed key', async () => {
    await b.waitForConsole(/elastos-firstboot: sealing the runtime key/, BOOT_MS);
    return 'console: elastos-firstboot: sealing the runtime key to the TPM';
  });
  await checks.run('the console shows the measurement lines', async () =>
    (await b.waitForConsole(/.*"msg":"runtime measured".*/, BOOT_MS))[0].slice(0, 160),
  );
  await chainChecks(checks, b, { label: 'boot 1', slot: 'a', counted: true, pcr11: pcr11Of(bootInfo(), 'a') });
  await checks.run(
    'admin key from the boot partition works; elastos status over SSH shows the demo capsules running',
    async () => {
      const rows = await waitForCapsules(ssh, b, [...FIRST_PARTY], BOOT_MS, () =>
        checks.time('boot 1: QEMU start to the first `elastos status` answer over SSH', (Date.now() - t0) / 1000),
      );
      checks.time('boot 1: QEMU start to every demo capsule running (SSH status)', (Date.now() - t0) / 1000);
      return rows.map((r) => `${r.name}:${r.state}`).join(' ');
    },
  );
  const status = await tpmStatus(ssh).catch(() => ({ keyId: undefined, provisioned: false }));
  await attestChecks(ssh);
  const audit = await checks.run('elastos audit verify passes (boot 1)', async () => {
    const v = await auditVerify(ssh);
    return { detail: `${v.records} records, ${v.checkpoints} checkpoints`, value: v.records };
  });
  await checks.run('clean shutdown (power button)', async () => {
    if (!(await b.powerOff(180_000))) throw new Error(`the guest did not power off in 180 s:\n${b.consoleTail(20)}`);
    await b.waitForConsole(/reboot: Power down/, 5_000);
    return 'reboot: Power down';
  });
  await b.stop();
  await espChecks(checks, 'after boot 1', disk, [ukiName('a')]);
  return { keyId: status.keyId, records: typeof audit === 'number' ? audit : 0 };
}

async function attestChecks(ssh: SshClient): Promise<void> {
  const adir = join(dir, 'attestation');
  const manifest = join(outDir, 'manifest.json');
  const nonce = await checks.run('elastos attest --nonce N over SSH', async () => ({
    detail: 'files received',
    value: await attestOverSsh(ssh, adir),
  }));
  if (typeof nonce !== 'string') return;
  await checks.run('stock tpm2_checkquote accepts the quote with the fresh nonce', async () => {
    const r = await checkquote(adir, nonce);
    if (!r.ok) throw new Error(r.out);
    // its output lists the quoted PCRs as "    11: 0x2C93…" under "sha256:"
    const pcrs = [...r.out.matchAll(/^\s+(\d+): 0x([0-9A-Fa-f]{16})/gm)].map(
      (m) => `PCR ${m[1]} ${m[2]?.toLowerCase()}…`,
    );
    return pcrs.length > 0 ? pcrs.join(', ') : 'ok';
  });
  await checks.run('elastos attest verify --expect manifest.json accepts it', async () => {
    const r = await hostVerify(adir, nonce, manifest);
    if (r.code !== 0) throw new Error(r.out);
    return 'verified against the release';
  });
  const stale = 'ff'.repeat(16);
  await checks.run('a stale nonce is refused (E_ATTEST_NONCE, and by tpm2_checkquote)', async () => {
    const r = await hostVerify(adir, stale, manifest);
    const q = await checkquote(adir, stale);
    if (r.code === 0 || !r.out.includes('E_ATTEST_NONCE') || q.ok)
      throw new Error(`verify: ${r.out}; checkquote ok=${q.ok}`);
    return r.out.split('\n')[0] ?? '';
  });
  await checks.run("another release's manifest is refused (E_ATTEST_RELEASE)", async () => {
    const r = await hostVerify(adir, nonce, otherReleaseManifest(manifest, join(dir, 'other-manifest.json')));
    if (r.code === 0 || !r.out.includes('E_ATTEST_RELEASE')) throw new Error(r.out);
    return r.out.split('\n')[0] ?? '';
  });
}

async function secondBoot(ssh: SshClient, disk: string, first: { keyId?: string; records: number }): Promise<void> {
  const t0 = Date.now();
  const b = await boot(2, disk);
  await chainChecks(checks, b, { label: 'boot 2', slot: 'a', counted: false, pcr11: pcr11Of(bootInfo(), 'a') });
  await checks.run('boot 2: the runtime answers with the demo capsules running', async () => {
    const rows = await waitForCapsules(ssh, b, [...FIRST_PARTY], BOOT_MS, () =>
      checks.time('boot 2: QEMU start to the first `elastos status` answer over SSH', (Date.now() - t0) / 1000),
    );
    checks.time('boot 2: QEMU start to every demo capsule running (SSH status)', (Date.now() - t0) / 1000);
    return `${rows.length} capsules`;
  });
  await checks.run('boot 2 unseals the existing key (no new provisioning)', async () => {
    const s = await tpmStatus(ssh);
    if (!first.keyId || s.keyId !== first.keyId) throw new Error(`key ${s.keyId} after reboot, ${first.keyId} before`);
    if (/elastos-firstboot: sealing/.test(b.consoleText())) throw new Error('the second boot sealed a new key');
    return `key ${s.keyId}`;
  });
  await checks.run('elastos audit verify passes across the reboot (same chain, more records)', async () => {
    const v = await auditVerify(ssh);
    if (v.records <= first.records) throw new Error(`${v.records} records after reboot, ${first.records} before`);
    return `${v.records} records (was ${first.records}), ${v.checkpoints} checkpoints`;
  });
  await b.stop();
}

async function main(): Promise<void> {
  const t0 = Date.now();
  ensurePackages([...BUILD_PACKAGES, ...BOOT_PACKAGES]);
  const built = await checks.run(`npm run image -- --arch ${p.arch}`, async () => {
    if (values['no-build']) return { detail: 'skipped (--no-build): booting the image already built', value: true };
    const report = await buildImage({ arch: p.arch });
    return { detail: report.split('\n')[0] ?? '', value: true };
  });
  // Say how many stages came from the cache: a cold build's time is not a cached build's.
  type Report = { stages: { cached: boolean }[] };
  const stages =
    built === true && !values['no-build'] ? readJsonFile<Report>(join(outDir, 'build-report.json')).stages : [];
  const cached = stages.filter((s) => s.cached).length;
  checks.time(
    values['no-build'] ? 'build (skipped)' : `build (${cached} cached stages reused)`,
    (Date.now() - t0) / 1000,
  );
  if (built !== true) return;
  await checks.run(
    'a second build from the same inputs: same runtime files, capsules and expected measurements',
    async () => {
      await buildImage({ arch: p.arch, variant: 'repro', noDisk: true });
      const diffs = manifestDifferences(join(outDir, 'manifest.json'), join(`${outDir}-repro`, 'manifest.json'));
      if (diffs.length > 0) throw new Error(`the manifests differ in ${diffs.slice(0, 5).join(', ')}`);
      return 'manifests agree';
    },
  );
  await checks.run(
    'host-side checks of the built boot chain (src/built-image.spec.ts: verity, UKI command lines, initramfs, ESP policies)',
    async () => {
      const mocha = join(REPO_ROOT, 'node_modules', '.bin', 'mocha');
      const spec = join(REPO_ROOT, 'image-build', 'dist', 'built-image.spec.js');
      const r = spawnSync(mocha, ['--forbid-pending', '--reporter', 'dot', spec], {
        encoding: 'utf8',
        env: { ...process.env, ELASTOS_IMAGE_DIR: outDir },
      });
      if (r.status !== 0) throw new Error(`${r.stdout}${r.stderr}`.trim().split('\n').slice(-20).join('\n'));
      return /(\d+) passing/.exec(r.stdout)?.[0] ?? 'passing';
    },
  );
  const br = JSON.parse(readFileSync(join(outDir, 'build-report.json'), 'utf8')) as {
    rawBytes: number;
    compressedBytes: number;
  };
  checks.size('disk.img', br.rawBytes);
  checks.size('disk.img.zst', br.compressedBytes);
  checks.size('disk.img allocated', statSync(join(outDir, 'disk.img')).blocks * 512);
  rmSync(dir, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', dir]);
  const key = await makeAdminKey(dir);
  const disk = prepareDisk(`${key}.pub`);
  const ssh = new SshClient(sshPort, key);
  const first = await firstBoot(ssh, disk);
  await secondBoot(ssh, disk, first);
  await fallbackBoot(ssh, disk, first);
}

/**
 * Boot 3: slot B holds slot A's root with one runtime file changed and a newer UKI with 2 tries.
 * systemd-boot boots B first (newest version); the runtime refuses to start (its measurement no
 * longer unseals the key), the boot assessment fails and reboots, twice; then systemd-boot falls
 * back to A by itself, which comes up with the same key, and B's entry is left with no tries.
 */
async function fallbackBoot(ssh: SshClient, disk: string, first: { keyId?: string; records: number }): Promise<void> {
  const info = bootInfo();
  const work = join(dir, 'slot-b');
  const { rootSlotMib } = JSON.parse(readFileSync(join(outDir, 'build-report.json'), 'utf8')) as {
    rootSlotMib: number;
  };
  const b3 = await checks.run(
    'boot 3 setup: slot B = slot A with one runtime file changed, UKI with 2 tries',
    async () => {
      copySlot(disk, rootSlotMib, 'b', work, TAMPERED_FILE);
      const uki = installUki(p, {
        imageDir: outDir,
        disk,
        slot: 'b',
        version: String(Number(info.version) + 1),
        tries: 2,
        work,
      });
      return { detail: `${uki.file}, version ${Number(info.version) + 1}`, value: uki };
    },
  );
  if (typeof b3 !== 'object' || b3 === null) return;
  const t0 = Date.now();
  const b = await boot(3, disk, true);
  for (const nth of [1, 2]) {
    await checks.run(`boot 3, try ${nth}: slot B boots (counted), fails its assessment and reboots`, async () => {
      const s = await waitForBoot(b, nth, 15 * 60_000);
      if (!s.entry.startsWith('elastos-b') || !s.counted) throw new Error(`booted ${s.entry} counted=${s.counted}`);
      if (s.pcr11 !== b3.pcr11) throw new Error(`PCR 11 ${s.pcr11}, expected ${b3.pcr11} for B's UKI`);
      const bad = [...b.consoleText().matchAll(/elastos-boot-health: boot is BAD: (.*)/g)];
      for (let i = 0; bad.length < nth && i < 900; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        bad.splice(0, bad.length, ...b.consoleText().matchAll(/elastos-boot-health: boot is BAD: (.*)/g));
      }
      if (bad.length < nth) throw new Error(`no verdict for try ${nth}:\n${b.consoleTail(30)}`);
      return `${s.entry}; ${bad[nth - 1]?.[1]?.slice(0, 100)}`;
    });
  }
  await chainChecks(checks, b, {
    label: 'boot 3, fallback',
    slot: 'a',
    counted: false,
    pcr11: pcr11Of(info, 'a'),
    nth: 3,
  });
  checks.time('boot 3: QEMU start to slot A good again after two failed tries of B', (Date.now() - t0) / 1000);
  await checks.run('boot 3: the fallback unseals the same key; audit verify passes', async () => {
    const s = await tpmStatus(ssh);
    if (!first.keyId || s.keyId !== first.keyId) throw new Error(`key ${s.keyId}, ${first.keyId} before`);
    const v = await auditVerify(ssh);
    return `key ${s.keyId}, ${v.records} records`;
  });
  await checks.run('boot 3: clean shutdown', async () => {
    if (!(await b.powerOff(180_000))) throw new Error('the guest did not power off in 180 s');
    return 'powered off';
  });
  await b.stop();
  await espChecks(checks, 'after boot 3', disk, [ukiName('a'), 'elastos-b+0-2.efi']);
}

// Ctrl-C or a CI timeout: still stop QEMU, swtpm and the simulator by pid.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    checks.fail('boot test', new Error(`interrupted by ${sig}`));
    void box?.stop().finally(() => {
      checks.print(p.arch);
      process.exit(1);
    });
  });
}

main()
  .catch((err: Error) => checks.fail('boot test', err))
  .finally(async () => {
    await box?.stop();
    const hung = hungResetNote();
    if (hung) checks.note(hung);
    checks.print(p.arch);
    process.exit(checks.failed > 0 ? 1 : 0);
  });
