/**
 * `npm run image:update-test -- --arch amd64 [--prepare]` (runtime/spec/update.md): the A/B update
 * on the QEMU box. Boot 1 of the image (release N): slot A good, the version floor raised to N.
 * Over SSH, `elastos update install URL` fetches release N+1 from a server on the host's
 * 127.0.0.1 (the guest's 10.0.2.2) and RAUC writes slot B; an older signed bundle and one with a
 * byte changed are refused with their codes. Boot 2 runs slot B (counted), the boot assessment
 * passes, systemd-bless-boot marks it good and the floor rises to N+1; the key unseals with no
 * reseal, the audit chain continues with the update's records, and release N is now refused.
 * `--prepare` builds the image and the bundles only (no QEMU: run it outside the QEMU lock).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { FIRST_PARTY } from '@elastos/scripts/dist/capsule/build-first-party.js';
import { profile } from './arch.js';
import { chainChecks, pcr11Of, waitForBoot } from './boot-chain-checks.js';
import { attestOverSsh, auditVerify, hostVerify, tpmStatus, waitForCapsules } from './boot-checks.js';
import { buildImage, DEFAULT_OUT } from './build.js';
import { BOOT_PACKAGES, BUILD_PACKAGES, ensurePackages } from './prereq.js';
import { hungResetNote, QemuBox } from './qemu-box.js';
import { flipFileBlock, readJsonFile } from './slot-rig.js';
import { makeAdminKey, SshClient } from './ssh-client.js';
import { Checks } from './test-report.js';
import { BOOT_TRIES, type BootInfo, type Slot } from './uki.js';
import {
  DAEMON_MAIN,
  type RefusedBundles,
  type ReleaseBundle,
  refusedBundles,
  releaseBundles,
} from './update-bundles.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'amd64' },
    prepare: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    // CI's budget: the refusals and the rollback only (one release bundle, two boots).
    ci: { type: 'boolean', default: false },
  },
});
const p = profile(values.arch ?? 'amd64');
const outDir = join(DEFAULT_OUT, p.arch);
const dir = join(outDir, 'update-test');
const sshPort = 20000 + ((process.pid + 7) % 20000);
const BOOT_MS = 15 * 60_000;
const checks = new Checks('image update test', 'image:update-test');
let box: QemuBox | undefined;
let server: Server | undefined;

interface UpdateStatus {
  booted?: string;
  next?: string;
  floor?: number;
  slots: Array<{ slot: string; state: string; version: number }>;
}

const bootInfo = () => (JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { boot: BootInfo }).boot;

function serve(files: string[]): Promise<number> {
  const byName = new Map(files.map((f) => [basename(f), f]));
  const srv = createServer((req, res) => {
    const f = byName.get((req.url ?? '').slice(1));
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': statSync(f).size });
    createReadStream(f).pipe(res);
  });
  server = srv;
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
}

/** Boot `n` of the test; `reboot`: the guest may reboot (a slot's failed tries, then the fallback). */
async function boot(n: number, disk: string, reboot = false): Promise<QemuBox> {
  const b = new QemuBox({ arch: p.arch, imageDir: outDir, disk, dir, sshPort, reboot });
  if (existsSync(b.console)) renameSync(b.console, join(dir, `console-boot-${n - 1}.log`));
  box = b;
  await b.start();
  checks.say(`boot ${n}: qemu pid ${b.pids.qemu}, swtpm pid ${b.pids.swtpm}, ssh 127.0.0.1:${sshPort}`);
  return b;
}

const updateStatus = (ssh: SshClient) => ssh.elastosJson<UpdateStatus>(['update', 'status']);
const slotsLine = (s: UpdateStatus) =>
  `booted ${s.booted}, next ${s.next}, floor ${s.floor}; ${s.slots.map((x) => `${x.slot}:${x.state}@${x.version}`).join(' ')}`;

/** `elastos update install URL` over SSH; the answer's exit status and first line. */
async function install(ssh: SshClient, url: string): Promise<{ code: number; line: string; ms: number }> {
  const t = Date.now();
  const r = await ssh.run(['elastos', '--json', '--timeout', '1800', 'update', 'install', url], 1_800_000);
  const line = (r.code === 0 ? r.stdout : r.stderr).trim().split('\n')[0] ?? '';
  return { code: r.code, line, ms: Date.now() - t };
}

async function firstBoot(ssh: SshClient, disk: string, version: number) {
  const t0 = Date.now();
  const b = await boot(1, disk);
  await chainChecks(checks, b, { label: 'boot 1', slot: 'a', counted: true, pcr11: pcr11Of(bootInfo(), 'a') });
  await checks.run('boot 1: demo capsules running', async () => {
    const rows = await waitForCapsules(ssh, b, [...FIRST_PARTY], BOOT_MS);
    checks.time('boot 1: QEMU start to every demo capsule running', (Date.now() - t0) / 1000);
    const unsealed = keyUnsealedAt(b.consoleText());
    if (unsealed) checks.time('boot 1: kernel start to the key unsealed (console clock)', unsealed);
    return `${rows.length} capsules`;
  });
  return checks.run('boot 1: update status: A booted and good, the floor raised to the release', async () => {
    // systemd-bless-boot's ExecStartPost ran `elastos update confirm`.
    for (let i = 0; i < 60; i++) {
      const s = await updateStatus(ssh);
      if (s.floor === version && s.booted === 'a' && s.slots[0]?.state === 'good')
        return { detail: slotsLine(s), value: s };
      await new Promise((r) => setTimeout(r, 5000));
    }
    throw new Error(`floor never reached ${version}: ${slotsLine(await updateStatus(ssh))}`);
  });
}

/** An install that must be refused with `code` (exit 65), leaving the inactive slot as it was. */
async function refusals(ssh: SshClient, url: (f: string) => string, bundles: RefusedBundles, label: string) {
  const before = slotsLine(await updateStatus(ssh));
  for (const [what, file, code] of [
    ['an older signed bundle', bundles.older, 'E_UPDATE_ROLLBACK'],
    ['a bundle with one byte changed', bundles.flipped, 'E_UPDATE_SIGNATURE'],
    ['a bundle signed by another key', bundles.otherKey, 'E_UPDATE_SIGNATURE'],
  ] as const) {
    await checks.run(`${label}: ${what} is refused with ${code}`, async () => {
      const r = await install(ssh, url(file));
      if (r.code !== 65 || !r.line.startsWith(`error ${code}:`)) throw new Error(`exit ${r.code}: ${r.line}`);
      return r.line.slice(0, 140);
    });
  }
  await checks.run(`${label}: after the refusals the slots are as they were (nothing installed)`, async () => {
    const after = slotsLine(await updateStatus(ssh));
    if (after !== before) throw new Error(`before: ${before}; after: ${after}`);
    return after;
  });
}

async function installGood(ssh: SshClient, url: (f: string) => string, r: ReleaseBundle, slot: Slot) {
  return checks.run(`update install ${basename(r.file)} over SSH (URL on the host) writes slot ${slot}`, async () => {
    const i = await install(ssh, url(r.file));
    if (i.code !== 0) throw new Error(`exit ${i.code}: ${i.line}`);
    checks.time(`update install of release ${r.version} (download, check, RAUC writes the slot)`, i.ms / 1000);
    const s = await updateStatus(ssh);
    const row = s.slots.find((x) => x.slot === slot);
    if (s.next !== slot || row?.state !== 'trying' || row.version !== r.version) throw new Error(slotsLine(s));
    return slotsLine(s);
  });
}

/** The kernel clock (s) of elastosd's "runtime key unsealed" on the console, if it is there. */
function keyUnsealedAt(consoleText: string): number | undefined {
  const m = /\[\s*(\d+\.\d+)\][^\n]*runtime key unsealed/.exec(consoleText);
  return m ? Number(m[1]) : undefined;
}

async function powerOff(b: QemuBox, label: string): Promise<boolean> {
  const ok = await checks.run(`${label}: clean shutdown`, async () => {
    if (!(await b.powerOff(180_000))) throw new Error('no power off in 180 s');
    return 'powered off';
  });
  await b.stop();
  return ok === 'powered off';
}

/** `elastos attest` on the box, verified on the host against the release it runs and the one before it. */
async function attestAfterUpdate(ssh: SshClient, now: ReleaseBundle, before: string): Promise<void> {
  const adir = join(dir, 'attestation');
  const nonce = await checks.run('boot 2: elastos attest --nonce N over SSH', async () => ({
    detail: 'files received',
    value: await attestOverSsh(ssh, adir),
  }));
  if (typeof nonce !== 'string') return;
  await checks.run(`boot 2: attest verify --expect release ${now.version}'s manifest accepts it`, async () => {
    const r = await hostVerify(adir, nonce, now.manifest);
    if (r.code !== 0) throw new Error(r.out);
    return r.out.split('\n')[0] ?? 'verified';
  });
  await checks.run("boot 2: attest verify --expect the previous release's manifest refuses it", async () => {
    const r = await hostVerify(adir, nonce, before);
    if (r.code === 0 || !r.out.includes('E_ATTEST_RELEASE')) throw new Error(`exit ${r.code}: ${r.out}`);
    return r.out.split('\n')[0] ?? '';
  });
}

/**
 * The box reboots into `slot`, whose release must not come up: each of its BOOT_TRIES tries ends
 * without the runtime's key unsealed, then systemd-boot falls back by itself to the good slot.
 */
async function failedTries(b: QemuBox, label: string, slot: Slot, good: { slot: Slot; pcr11: string }) {
  const tries = await checks.run(
    `${label}: slot ${slot.toUpperCase()} is tried ${BOOT_TRIES} times, never with the key unsealed`,
    async () => {
      const seen = await waitForBoot(b, 1, BOOT_MS * 2, (s) => s.entry.startsWith(`elastos-${good.slot}`));
      const text = b.consoleText();
      const before = text.slice(0, text.indexOf(`booted entry ${seen.entry}`));
      const kernels = before.split('Linux version ').length - 1;
      if (kernels !== BOOT_TRIES + 1) throw new Error(`${kernels - 1} tries of slot ${slot} before the fallback`);
      if (/runtime key unsealed/.test(before)) throw new Error(`a try of slot ${slot} unsealed the key`);
      const why = [
        ...before.matchAll(/boot is BAD: (.*)|(Kernel panic[^\n]*)|(device-mapper: verity: [^\n]*corrupted[^\n]*)/g),
      ];
      return {
        value: seen.index,
        detail: `${BOOT_TRIES} tries; ${why
          .map((m) => (m[1] ?? m[2] ?? m[3] ?? '').slice(0, 60))
          .slice(0, 3)
          .join(' | ')}`,
      };
    },
  );
  if (typeof tries !== 'number') return false;
  const fallback = { label: `${label}, fallback`, slot: good.slot, counted: false, pcr11: good.pcr11, nth: tries };
  await chainChecks(checks, b, fallback);
  return true;
}

/** After a fallback: the other slot is bad, the same key unsealed, the chain whole, the failure recorded. */
async function afterFallback(ssh: SshClient, label: string, o: { key: string; booted: Slot; bad: ReleaseBundle }) {
  await checks.run(`${label}: update status shows the fallback, the same key (no reseal)`, async () => {
    const s = await updateStatus(ssh);
    const badSlot = o.booted === 'a' ? 'b' : 'a';
    const k = (await tpmStatus(ssh)).keyId;
    if (s.booted !== o.booted || s.slots.find((x) => x.slot === badSlot)?.state !== 'bad' || k !== o.key)
      throw new Error(`${slotsLine(s)}; key ${k}, was ${o.key}`);
    return `${slotsLine(s)}; key ${k}`;
  });
  await checks.run(
    `${label}: audit verify passes; update.rolled-back of release ${o.bad.version} in the trail`,
    async () => {
      const v = await auditVerify(ssh);
      const r = await ssh.run(['elastos', '--json', 'audit', 'tail', '-n', '100']);
      const rolled = r.stdout.split('\n').filter((l) => l.includes('"update.rolled-back"'));
      if (!rolled.some((l) => l.includes(`${o.bad.version}`)))
        throw new Error(`no update.rolled-back of ${o.bad.version}`);
      return `${v.records} records; ${rolled.length} update.rolled-back`;
    },
  );
}

async function main(): Promise<void> {
  ensurePackages([...BUILD_PACKAGES, ...BOOT_PACKAGES]);
  if (!values['no-build']) await buildImage({ arch: p.arch });
  const info = bootInfo();
  const version = Number(info.version);
  const t = Date.now();
  const bdir = join(outDir, 'update-bundles');
  const refused = refusedBundles(p, outDir, version, bdir);
  const releases = releaseBundles(p, outDir, version, bdir, values.ci === true);
  checks.time(
    `bundles (${values.ci ? 'N+2 broken' : 'N+1, N+2 broken, N+2'}; small refused ones)`,
    (Date.now() - t) / 1000,
  );
  const zst = statSync(join(outDir, 'disk.img.zst')).size;
  const size = statSync(releases.broken.file).size;
  checks.size(basename(releases.broken.file), size);
  checks.note(`a release bundle / the compressed disk image (disk.img.zst): ${(size / zst).toFixed(2)}`);
  if (values.prepare) return;
  rmSync(dir, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', dir]);
  const key = await makeAdminKey(dir);
  const disk = join(dir, 'disk.img');
  execFileSync('cp', ['--sparse=always', join(outDir, 'disk.img'), disk]);
  execFileSync('mcopy', ['-i', `${disk}@@1M`, `${key}.pub`, '::/elastos-admin.pub']);
  const ssh = new SshClient(sshPort, key);
  const files = [refused.older, refused.flipped, refused.otherKey];
  for (const r of [releases.newer, releases.broken, releases.later]) if (r) files.push(r.file);
  const port = await serve(files);
  const url = (f: string) => `http://10.0.2.2:${port}/${basename(f)}`;

  // Boot 1, release N on slot A: the refusals.
  const first = await firstBoot(ssh, disk, version);
  if (typeof first !== 'object' || !box) return;
  const key1 = (await tpmStatus(ssh)).keyId ?? '';
  await refusals(ssh, url, refused, 'boot 1');
  if (releases.newer && releases.later) {
    const b2 = await goodUpdate(ssh, url, box, { key: key1, version, newer: releases.newer, refused, disk });
    if (!b2) return;
    const b3 = await rollback(ssh, url, b2, {
      key: key1,
      broken: releases.broken,
      to: 'a',
      good: releases.newer,
      disk,
      n: 3,
    });
    if (b3) await alteredSlot(ssh, url, b3, { key: key1, later: releases.later, good: releases.newer, disk });
    return;
  }
  // --ci: release N+2 whose runtime exits as it starts, from slot A into slot B, and back.
  const good = { version, pcr11: { a: pcr11Of(info, 'a'), b: pcr11Of(info, 'b') } };
  const b2 = await rollback(ssh, url, box, { key: key1, broken: releases.broken, to: 'b', good, disk, n: 2 });
  if (b2) await powerOff(b2, 'boot 2');
}

interface Release {
  version: number;
  pcr11: Record<Slot, string>;
}

/** Release N+1 into slot B, boot 2: counted, good, the same key, the chain whole, attest against N+1 not N. */
async function goodUpdate(
  ssh: SshClient,
  url: (f: string) => string,
  b1: QemuBox,
  o: { key: string; version: number; newer: ReleaseBundle; refused: RefusedBundles; disk: string },
): Promise<QemuBox | undefined> {
  if (typeof (await installGood(ssh, url, o.newer, 'b')) !== 'string') return;
  const records1 = (await auditVerify(ssh)).records;
  if (!(await powerOff(b1, 'boot 1'))) return;
  const t2 = Date.now();
  const b2 = await boot(2, o.disk);
  await chainChecks(checks, b2, { label: 'boot 2 (release N+1)', slot: 'b', counted: true, pcr11: o.newer.pcr11.b });
  checks.time('boot 2: QEMU start to slot B marked good', (Date.now() - t2) / 1000);
  const unsealed = keyUnsealedAt(b2.consoleText());
  if (unsealed) checks.time('boot 2: kernel start to the key unsealed on the new slot (console clock)', unsealed);
  await checks.run('boot 2: slot B booted and good, the floor raised to N+1, the same key (no reseal)', async () => {
    let s = await updateStatus(ssh);
    for (let i = 0; i < 60 && s.floor !== o.version + 1; i++) {
      await new Promise((r) => setTimeout(r, 5000));
      s = await updateStatus(ssh);
    }
    const k = (await tpmStatus(ssh)).keyId;
    if (s.booted !== 'b' || s.slots[1]?.state !== 'good' || s.floor !== o.version + 1 || k !== o.key)
      throw new Error(`${slotsLine(s)}; key ${k}, was ${o.key}`);
    return `${slotsLine(s)}; key ${k}`;
  });
  await checks.run(
    'boot 2: audit verify passes across the update; refused, installed, booted, good in the trail',
    async () => {
      const v = await auditVerify(ssh);
      const r = await ssh.run(['elastos', '--json', 'audit', 'tail', '-n', '400']);
      const types = r.stdout.split('\n').filter((l) => l.includes('"update.'));
      const want = ['update.refused', 'update.installed', 'update.booted', 'update.good'];
      const missing = want.filter((w) => !types.some((l) => l.includes(`"${w}"`)));
      if (missing.length || v.records <= records1)
        throw new Error(`missing ${missing.join(' ')}; ${v.records} records`);
      return `${v.records} records (was ${records1}); ${want.join(' ')}`;
    },
  );
  await attestAfterUpdate(ssh, o.newer, join(outDir, 'manifest.json'));
  await refusals(ssh, url, o.refused, 'boot 2');
  return b2;
}

/**
 * Release N+2 whose runtime exits as it starts, installed into slot `to` from the running box; the
 * reboot tries it BOOT_TRIES times, then the box is back on the good slot by itself (boot `n`).
 */
async function rollback(
  ssh: SshClient,
  url: (f: string) => string,
  running: QemuBox,
  o: { key: string; broken: ReleaseBundle; to: Slot; good: Release; disk: string; n: number },
): Promise<QemuBox | undefined> {
  if (typeof (await installGood(ssh, url, o.broken, o.to)) !== 'string') return;
  if (!(await powerOff(running, `boot ${o.n - 1}`))) return;
  const from = o.to === 'a' ? 'b' : 'a';
  const t = Date.now();
  const b = await boot(o.n, o.disk, true);
  const label = `boot ${o.n} (release ${o.broken.version}, its runtime exits at start)`;
  if (!(await failedTries(b, label, o.to, { slot: from, pcr11: o.good.pcr11[from] }))) return;
  checks.time(
    `boot ${o.n}: QEMU start to slot ${from.toUpperCase()} running again after the failed tries`,
    (Date.now() - t) / 1000,
  );
  await afterFallback(ssh, `boot ${o.n}`, { key: o.key, booted: from, bad: o.broken });
  return b;
}

/** Release N+2 (good) into slot A, one block of slot A flipped on the stopped box's disk, boot 4. */
async function alteredSlot(
  ssh: SshClient,
  url: (f: string) => string,
  b3: QemuBox,
  o: { key: string; later: ReleaseBundle; good: Release; disk: string },
) {
  if (typeof (await installGood(ssh, url, o.later, 'a')) !== 'string') return;
  if (!(await powerOff(b3, 'boot 3'))) return;
  const flipped = await checks.run(
    "boot 4 setup: one byte of slot A flipped on the disk (the runtime's entry module)",
    async () => {
      const { rootSlotMib } = readJsonFile<{ rootSlotMib: number }>(join(outDir, 'build-report.json'));
      return `byte ${flipFileBlock(o.disk, rootSlotMib, 'a', DAEMON_MAIN, join(dir, 'flip'))} of the disk`;
    },
  );
  if (typeof flipped !== 'string') return;
  const b4 = await boot(4, o.disk, true);
  if (!(await failedTries(b4, 'boot 4 (altered slot A)', 'a', { slot: 'b', pcr11: o.good.pcr11.b }))) return;
  await afterFallback(ssh, 'boot 4', { key: o.key, booted: 'b', bad: o.later });
  await powerOff(b4, 'boot 4');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    checks.fail('update test', new Error(`interrupted by ${sig}`));
    void box?.stop().finally(() => {
      checks.print(p.arch);
      process.exit(1);
    });
  });
}

main()
  .catch((err: Error) => checks.fail('update test', err))
  .finally(async () => {
    await box?.stop();
    server?.close();
    const hung = hungResetNote();
    if (hung) checks.note(hung);
    checks.print(p.arch);
    process.exit(checks.failed > 0 ? 1 : 0);
  });
