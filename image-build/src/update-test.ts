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
import { chainChecks, pcr11Of } from './boot-chain-checks.js';
import { auditVerify, tpmStatus, waitForCapsules } from './boot-checks.js';
import { buildImage, DEFAULT_OUT } from './build.js';
import { BOOT_PACKAGES, BUILD_PACKAGES, ensurePackages } from './prereq.js';
import { QemuBox } from './qemu-box.js';
import { makeAdminKey, SshClient } from './ssh-client.js';
import { Checks } from './test-report.js';
import { type BootInfo, ukiName } from './uki.js';
import { type TestBundles, testBundles } from './update-bundles.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'amd64' },
    prepare: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});
const p = profile(values.arch ?? 'amd64');
const outDir = join(DEFAULT_OUT, p.arch);
const dir = join(outDir, 'update-test');
const sshPort = 20000 + ((process.pid + 7) % 20000);
const BOOT_MS = 15 * 60_000;
const checks = new Checks();
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

async function boot(n: number, disk: string): Promise<QemuBox> {
  const b = new QemuBox({ arch: p.arch, imageDir: outDir, disk, dir, sshPort });
  if (existsSync(b.console)) renameSync(b.console, join(dir, `console-boot-${n - 1}.log`));
  box = b;
  await b.start();
  checks.note(`boot ${n}: qemu pid ${b.pids.qemu}, swtpm pid ${b.pids.swtpm}, ssh 127.0.0.1:${sshPort}`);
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

async function refusals(ssh: SshClient, url: (f: string) => string, bundles: TestBundles, label: string) {
  for (const [what, file, code] of [
    ['an older signed bundle', bundles.older, 'E_UPDATE_ROLLBACK'],
    ['a bundle with one byte changed', bundles.flipped, 'E_UPDATE_SIGNATURE'],
  ] as const) {
    await checks.run(`${label}: ${what} is refused with ${code}`, async () => {
      const r = await install(ssh, url(file));
      if (r.code !== 65 || !r.line.startsWith(`error ${code}:`)) throw new Error(`exit ${r.code}: ${r.line}`);
      return r.line.slice(0, 140);
    });
  }
}

async function main(): Promise<void> {
  ensurePackages([...BUILD_PACKAGES, ...BOOT_PACKAGES]);
  if (!values['no-build']) await buildImage({ arch: p.arch });
  const info = bootInfo();
  const version = Number(info.version);
  const t = Date.now();
  const bundles = testBundles(p, outDir, version, join(outDir, 'update-bundles'));
  checks.time(
    `bundles (release ${version + 1} of the root slot, small older and changed ones)`,
    (Date.now() - t) / 1000,
  );
  checks.size(`update-${version + 1}.raucb`, statSync(bundles.newer).size);
  if (values.prepare) return;
  rmSync(dir, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', dir]);
  const key = await makeAdminKey(dir);
  const disk = join(dir, 'disk.img');
  execFileSync('cp', ['--sparse=always', join(outDir, 'disk.img'), disk]);
  execFileSync('mcopy', ['-i', `${disk}@@1M`, `${key}.pub`, '::/elastos-admin.pub']);
  const ssh = new SshClient(sshPort, key);
  const port = await serve([bundles.newer, bundles.older, bundles.flipped]);
  const url = (f: string) => `http://10.0.2.2:${port}/${basename(f)}`;

  const first = await firstBoot(ssh, disk, version);
  if (typeof first !== 'object') return;
  const key1 = (await tpmStatus(ssh)).keyId;
  await refusals(ssh, url, bundles, 'boot 1');
  const installed = await checks.run(
    `update install ${basename(bundles.newer)} over SSH (URL on the host)`,
    async () => {
      const r = await install(ssh, url(bundles.newer));
      if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.line}`);
      checks.time('update install (download, copy, check, RAUC writes slot B)', r.ms / 1000);
      const s = await updateStatus(ssh);
      if (s.next !== 'b' || s.slots[1]?.state !== 'trying') throw new Error(slotsLine(s));
      return slotsLine(s);
    },
  );
  if (typeof installed !== 'string') return;
  const records1 = (await auditVerify(ssh)).records;
  await checks.run('boot 1: clean shutdown', async () => {
    if (!(await box?.powerOff(180_000))) throw new Error('no power off in 180 s');
    return 'powered off';
  });
  await box?.stop();

  const t2 = Date.now();
  const b = await boot(2, disk);
  await chainChecks(checks, b, { label: 'boot 2 (release N+1)', slot: 'b', counted: true, pcr11: bundles.pcr11b });
  checks.time('boot 2: QEMU start to slot B marked good', (Date.now() - t2) / 1000);
  await checks.run('boot 2: slot B booted and good, the floor raised to N+1, the same key (no reseal)', async () => {
    let s = await updateStatus(ssh);
    for (let i = 0; i < 60 && s.floor !== version + 1; i++) {
      await new Promise((r) => setTimeout(r, 5000));
      s = await updateStatus(ssh);
    }
    const k = (await tpmStatus(ssh)).keyId;
    if (s.booted !== 'b' || s.slots[1]?.state !== 'good' || s.floor !== version + 1 || k !== key1)
      throw new Error(`${slotsLine(s)}; key ${k}, was ${key1}`);
    return `${slotsLine(s)}; key ${k}`;
  });
  await checks.run(
    'boot 2: audit verify passes across the update; installed, booted, good are in the trail',
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
  await refusals(ssh, url, bundles, 'boot 2');
  await checks.run('boot 2: clean shutdown', async () => {
    if (!(await b.powerOff(180_000))) throw new Error('no power off in 180 s');
    return 'powered off';
  });
  await b.stop();
  checks.note(`ESP after boot 2: ${ukiName('b')} expected blessed`);
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
    checks.print(p.arch);
    process.exit(checks.failed > 0 ? 1 : 0);
  });
