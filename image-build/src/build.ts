/** The build, stage by stage (image-build/README.md): each cached by its inputs, each timed. */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ElastosError } from '@elastos/runtime';
import { readAdminKey } from './admin-key.js';
import { type ArchProfile, profile } from './arch.js';
import { buildImageCapsules, publisherKey } from './capsules.js';
import { duMib, kernelCmdline, makeDisk, rootSlotMib } from './disk.js';
import { assembleData, assembleRoot } from './image-tree.js';
import { expectedPcrAfterRuntime, makeManifest } from './manifest.js';
import { buildNative } from './native.js';
import { fetchNode } from './node-dist.js';
import {
  espPolicyPath,
  installEspPolicies,
  installPcrSigningKey,
  type PcrSigningKey,
  pcrSigningKey,
  SIGNED_PCRS,
  SIGNED_PHASES,
  type SlotPcr11,
  signSlotPolicies,
} from './pcr-policy.js';
import { BUILD_PACKAGES, ensureBinfmt, ensurePackages } from './prereq.js';
import { installRaucConfig, makeBundle, type UpdateKey, updateKey } from './rauc.js';
import { buildBuildroot, buildRootfs, require0 } from './rootfs.js';
import { StageRunner, say } from './stage.js';
import { BOOT_TRIES, expectedPcr11, installBootLoader, makeUki, SLOTS, type Slot, sha256File, ukiName } from './uki.js';
import { makeRootSlot, type VerityInfo } from './verity.js';
import { boxWorkspaces, buildModules, installRuntime, REPO_ROOT } from './workspace-tree.js';

export interface BuildOptions {
  arch: string;
  adminKey?: string | undefined;
  publisherKey?: string | undefined;
  out?: string | undefined;
  /** A second build beside the first (`ARCH-NAME/`), e.g. to compare two builds' manifests. */
  variant?: string;
  /** The release's monotonic version (default: the number of commits on the branch, releaseVersion). */
  version?: string | undefined;
  /** Also write a signed RAUC bundle of the root slot (update-VERSION.raucb). */
  bundle?: boolean;
  /** The vendor's update signing key and certificate (PEM); default: a dev pair in the build dir. */
  updateKey?: string | undefined;
  updateCert?: string | undefined;
  /** Stop after the manifest (no disk image). */
  noDisk?: boolean;
  /** The vendor's PCR-signing key (PEM, RSA-2048); default: a dev key in the build dir. */
  pcrKey?: string | undefined;
  /** false: no signed PCR policy; the box seals its key to PCR 23 alone (the fallback). Default true. */
  pcrPolicy?: boolean;
}

export const DEFAULT_OUT = join(REPO_ROOT, '.run', 'image');

/** SOURCE_DATE_EPOCH: the caller's, else the last commit's time (fixed mtimes, reproducible). */
function sourceDateEpoch(): string {
  if (process.env.SOURCE_DATE_EPOCH) return process.env.SOURCE_DATE_EPOCH;
  const r = spawnSync('git', ['-C', REPO_ROOT, 'log', '-1', '--format=%ct'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : '1700000000';
}

/**
 * The kernel and initrd the rootfs installed (kept beside the image for the manifest), and the
 * boot partition: systemd-boot plus slot A's UKI with its tries counter. Both slots' UKIs are
 * kept in `uki/` (an update writes the other slot's). Each UKI's command line carries the root
 * slot's dm-verity root hash (`verity`), so the root must be final before this runs.
 */
function bootFiles(root: string, outDir: string, esp: string, p: ArchProfile, version: string, verity: VerityInfo) {
  const boot = readdirSync(join(root, 'boot'));
  const vmlinuz = boot.find((f) => f.startsWith('vmlinuz-'));
  const initrd = boot.find((f) => f.startsWith('initrd.img-'));
  require0(vmlinuz && initrd ? 0 : 1, `the rootfs has no kernel/initrd in /boot (${boot.join(' ')})`);
  cpSync(join(root, 'boot', vmlinuz ?? ''), join(outDir, 'vmlinuz'));
  cpSync(join(root, 'boot', initrd ?? ''), join(outDir, 'initrd.img'));
  checkInitrd(root, initrd ?? '');
  const cmdline = kernelCmdline(p, 'a', verity);
  writeFileSync(join(outDir, 'cmdline.txt'), `${cmdline}\n`);
  rmSync(join(outDir, 'uki'), { recursive: true, force: true });
  mkdirSync(join(outDir, 'uki'), { recursive: true });
  const signed: SlotPcr11[] = [];
  const slots = SLOTS.map((slot) => {
    const u = {
      root,
      vmlinuz: join(outDir, 'vmlinuz'),
      initrd: join(outDir, 'initrd.img'),
      cmdline: kernelCmdline(p, slot, verity),
      version,
      out: join(outDir, 'uki', ukiName(slot)),
    };
    const parts = makeUki(p, u, slot);
    const pcr11 = expectedPcr11(parts, u);
    const pcr11AfterStub = expectedPcr11(parts, u, '');
    const phases = Object.fromEntries(SIGNED_PHASES.map((ph) => [ph, expectedPcr11(parts, u, ph)]));
    rmSync(parts, { recursive: true, force: true });
    signed.push({ slot, phases });
    return { slot, cmdline: u.cmdline, file: ukiName(slot), sha256: sha256File(u.out), pcr11, pcr11AfterStub };
  });
  installBootLoader(p, root, esp);
  cpSync(join(outDir, 'uki', ukiName('a')), join(esp, 'EFI/Linux', ukiName('a', BOOT_TRIES)));
  writeFileSync(
    join(esp, 'README.txt'),
    'ElastOS box. To add an admin SSH key, copy its public key here as elastos-admin.pub: it is read on the next boot.\n',
  );
  return {
    cmdline,
    vmlinuz: join(outDir, 'vmlinuz'),
    initrd: join(outDir, 'initrd.img'),
    kernel: vmlinuz ?? '',
    boot: { version, loader: `systemd-boot (${p.efi.loader})`, tries: BOOT_TRIES, slots, verity },
    signedPcr11: signed,
  };
}

/**
 * What the initramfs must hold to open the root slot (stages/initramfs/verity-*): listed with the
 * image's own lsinitramfs (the build host need not have initramfs-tools).
 */
export const INITRD_VERITY_FILES = [/\/veritysetup$/, /\/dm-verity\.ko/, /scripts\/local-top\/elastos-verity$/];

function checkInitrd(root: string, initrd: string): void {
  const r = spawnSync('chroot', [root, 'lsinitramfs', `/boot/${initrd}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  require0(r.status, `lsinitramfs /boot/${initrd}: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  const files = r.stdout.split('\n');
  const missing = INITRD_VERITY_FILES.filter((re) => !files.some((f) => re.test(f)));
  require0(missing.length, `the initramfs lacks ${missing.join(', ')}: it could not open a dm-verity root`);
}

/**
 * Signs each slot's PCR policy (pcr-policy.ts) for its predicted PCR 11 (which covers the root
 * hash) and the runtime's predicted PCR 23, onto the ESP tree (the root cannot hold it: its hash
 * would depend on it).
 */
function signPolicy(key: PcrSigningKey, esp: string, version: string, slots: SlotPcr11[], pcr23: string): void {
  installEspPolicies(esp, signSlotPolicies(version, key, slots, pcr23));
  say(
    `PCR policy signed for ${slots.length} slots x ${SIGNED_PHASES.length} phases (PCR ${SIGNED_PCRS.join(' + ')}; PCR 23 ${pcr23.slice(0, 16)}…) with ${key.pub}, on the ESP`,
  );
}

/** The signed RAUC bundle of this build's root slot (rauc.ts), timed like a stage. */
function writeBundle(
  stages: StageRunner,
  p: ArchProfile,
  outDir: string,
  esp: string,
  version: string,
  key: UpdateKey,
) {
  const t = Date.now();
  say('stage bundle: building');
  const file = makeBundle({
    p,
    version,
    rootImage: join(outDir, 'rootfs.ext4'),
    ukis: { a: join(outDir, 'uki', ukiName('a')), b: join(outDir, 'uki', ukiName('b')) },
    policies: espPolicies(esp),
    release: join(outDir, 'manifest.json'),
    key,
    work: outDir,
    out: join(outDir, `update-${version}.raucb`),
  });
  stages.timings.push({ name: 'bundle', cached: false, seconds: (Date.now() - t) / 1000 });
  say(`stage bundle: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { file, bytes: statSync(file).size };
}

/** The ESP tree's signed policy files, when the build signed them. */
function espPolicies(esp: string): Record<Slot, string> | undefined {
  const files = { a: join(esp, espPolicyPath('a')), b: join(esp, espPolicyPath('b')) };
  return existsSync(files.a) && existsSync(files.b) ? files : undefined;
}

/** `systemd-analyze security` of the runtime's unit, offline against the image's root. */
function securityReport(root: string, outDir: string): string {
  const r = spawnSync(
    'systemd-analyze',
    ['security', '--offline=true', `--root=${root}`, '--no-pager', 'elastosd.service'],
    {
      encoding: 'utf8',
    },
  );
  const text = `${r.stdout}${r.stderr}`;
  writeFileSync(join(outDir, 'systemd-analyze-security.txt'), text);
  return text.trim().split('\n').pop() ?? '';
}

/**
 * The release version: a decimal integer 1..1000000 (systemd-boot orders the slots by it; the
 * update's TPM version floor counts up to it, one NV increment a step: runtime/spec/update.md §4).
 * Default: the number of commits on the branch (monotonic along it, small).
 */
export function releaseVersion(given: string | undefined): string {
  const v = given ?? process.env.ELASTOS_RELEASE ?? commitCount();
  if (!/^[1-9][0-9]{0,6}$/.test(v) || Number(v) > 1_000_000)
    throw new ElastosError('E_USAGE', `--release must be an integer 1..1000000, not ${v}`);
  return v;
}

function commitCount(): string {
  const r = spawnSync('git', ['-C', REPO_ROOT, 'rev-list', '--count', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : '1';
}

export async function buildImage(o: BuildOptions): Promise<string> {
  const started = Date.now();
  const p = profile(o.arch);
  const adminKey = o.adminKey ? readAdminKey(o.adminKey) : undefined;
  ensurePackages(BUILD_PACKAGES);
  ensureBinfmt(p.arch);
  process.env.SOURCE_DATE_EPOCH = sourceDateEpoch();
  const outRoot = resolve(o.out ?? DEFAULT_OUT);
  const outDir = join(outRoot, o.variant ? `${p.arch}-${o.variant}` : p.arch);
  const stages = new StageRunner(join(outRoot, 'cache'));
  mkdirSync(outDir, { recursive: true });

  const rootfs = await buildRootfs(stages, p);
  const node = await fetchNode(stages, p);
  const buildroot = await buildBuildroot(stages, p, rootfs);
  const native = await buildNative(stages, p, buildroot, node);
  const box = boxWorkspaces();
  const modules = await buildModules(stages, p, box);

  let t = Date.now();
  const key = await publisherKey(join(outRoot, 'keys', 'publisher.key'), o.publisherKey);
  const capsules = await buildImageCapsules(
    join(outDir, 'capsules', key.keyId.slice(0, 16)),
    o.publisherKey ?? join(outRoot, 'keys', 'publisher.key'),
  );
  stages.timings.push({ name: 'capsules', cached: false, seconds: (Date.now() - t) / 1000 });
  say(`capsules signed by ${key.name} (${key.keyId}): ${capsules.map((c) => c.name).join(', ')}`);

  t = Date.now();
  const work = join(outDir, 'work');
  const trees = { root: join(work, 'root'), data: join(work, 'data'), boot: join(work, 'boot') };
  rmSync(trees.boot, { recursive: true, force: true });
  assembleRoot(trees.root, p, {
    rootfs,
    node: node.dir,
    runtime: (dest) => installRuntime(dest, modules, box, native),
    capsules,
  });
  const signer = updateKey(join(outRoot, 'keys'), { key: o.updateKey, cert: o.updateCert });
  installRaucConfig(trees.root, p, signer);
  const pcrPolicy = o.pcrPolicy !== false;
  assembleData(trees.data, p, key, adminKey, pcrPolicy);
  const pcrKey = pcrPolicy ? pcrSigningKey(join(outRoot, 'keys'), o.pcrKey) : undefined;
  if (pcrKey) installPcrSigningKey(trees.root, pcrKey);
  stages.timings.push({ name: 'assemble', cached: false, seconds: (Date.now() - t) / 1000 });
  say(`trees assembled in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // The root is final from here on: its slot image and dm-verity root hash, then the command
  // lines that carry it, the UKIs, their PCR 11, and the signed policy on the ESP.
  t = Date.now();
  say('stage root slot: building');
  const rootMib = rootSlotMib(duMib(trees.root));
  const slotImage = join(outDir, 'rootfs.ext4');
  const verity = makeRootSlot(trees.root, slotImage, rootMib);
  stages.timings.push({ name: 'root slot', cached: false, seconds: (Date.now() - t) / 1000 });
  say(`stage root slot: ${rootMib} MiB, root hash ${verity.rootHash} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const kernel = bootFiles(trees.root, outDir, trees.boot, p, releaseVersion(o.version), verity);
  const signedPcr23 = pcrKey ? await expectedPcrAfterRuntime(trees.root, trees.data, node.version) : undefined;
  if (pcrKey && signedPcr23) signPolicy(pcrKey, trees.boot, kernel.boot.version, kernel.signedPcr11, signedPcr23);

  const manifest = await makeManifest({
    p,
    root: trees.root,
    data: trees.data,
    node,
    capsules,
    publisher: { name: key.name, keyId: key.keyId, publicKey: Buffer.from(key.publicKey).toString('hex') },
    kernel,
    workspaces: box.map((w) => ({ name: w.name, version: (w.pkg as { version?: string }).version ?? '' })),
  });
  if (signedPcr23 !== undefined && signedPcr23 !== manifest.measuredBoot.pcrAfterRuntime) {
    require0(1, `the signed PCR 23 ${signedPcr23} is not the manifest's ${manifest.measuredBoot.pcrAfterRuntime}`);
  }
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const security = securityReport(trees.root, outDir);
  if (o.noDisk) return `[image] ${p.arch} manifest in ${outDir} (no disk)`;

  t = Date.now();
  say('stage disk: building');
  const disk = makeDisk(outDir, p, { image: slotImage, rootMib }, trees);
  stages.timings.push({ name: 'disk', cached: false, seconds: (Date.now() - t) / 1000 });
  say(`stage disk: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const bundle = o.bundle ? writeBundle(stages, p, outDir, trees.boot, kernel.boot.version, signer) : undefined;
  const total = (Date.now() - started) / 1000;
  const report = {
    version: kernel.boot.version,
    bundleBytes: bundle?.bytes,
    arch: p.arch,
    totalSeconds: total,
    stages: stages.timings,
    rawBytes: disk.rawBytes,
    compressedBytes: disk.compressedBytes,
    rootSlotMib: disk.rootMib,
    node: node.version,
    kernel: kernel.kernel,
    security,
    pcrAfterRuntime: manifest.measuredBoot.pcrAfterRuntime,
    verityRootHash: verity.rootHash,
  };
  writeFileSync(join(outDir, 'build-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (!existsSync(join(outDir, 'disk.img'))) require0(1, 'no disk.img was written');
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
  return [
    `[image] ${p.arch} image in ${outDir}: disk.img ${mb(disk.rawBytes)}, disk.img.zst ${mb(disk.compressedBytes)}, built in ${total.toFixed(0)} s`,
    `[image] stages: ${stages.timings.map((s) => `${s.name} ${s.cached ? 'cached' : `${s.seconds.toFixed(0)} s`}`).join(', ')}`,
    `[image] systemd-analyze security elastosd.service: ${security}`,
    ...(bundle ? [`[image] update bundle ${bundle.file}: ${mb(bundle.bytes)} (signed by ${signer.cert})`] : []),
    `[image] expected runtime PCR ${manifest.measuredBoot.pcr} after boot measurements: ${manifest.measuredBoot.pcrAfterRuntime}`,
  ].join('\n');
}

export const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as unknown;
