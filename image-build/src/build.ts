/** The build, stage by stage (image-build/README.md): each cached by its inputs, each timed. */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readAdminKey } from './admin-key.js';
import { type ArchProfile, profile } from './arch.js';
import { buildImageCapsules, publisherKey } from './capsules.js';
import { kernelCmdline, makeDisk } from './disk.js';
import { assembleData, assembleRoot } from './image-tree.js';
import { makeManifest } from './manifest.js';
import { buildNative } from './native.js';
import { fetchNode } from './node-dist.js';
import { BUILD_PACKAGES, ensureBinfmt, ensurePackages } from './prereq.js';
import { buildBuildroot, buildRootfs, require0 } from './rootfs.js';
import { StageRunner, say } from './stage.js';
import { boxWorkspaces, buildModules, installRuntime, REPO_ROOT } from './workspace-tree.js';

export interface BuildOptions {
  arch: string;
  adminKey?: string | undefined;
  publisherKey?: string | undefined;
  out?: string | undefined;
  /** A second build beside the first (`ARCH-NAME/`), e.g. to compare two builds' manifests. */
  variant?: string;
  /** Stop after the manifest (no disk image). */
  noDisk?: boolean;
}

export const DEFAULT_OUT = join(REPO_ROOT, '.run', 'image');

/** SOURCE_DATE_EPOCH: the caller's, else the last commit's time (fixed mtimes, reproducible). */
function sourceDateEpoch(): string {
  if (process.env.SOURCE_DATE_EPOCH) return process.env.SOURCE_DATE_EPOCH;
  const r = spawnSync('git', ['-C', REPO_ROOT, 'log', '-1', '--format=%ct'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : '1700000000';
}

/** The kernel and initrd the rootfs installed, copied beside the image and onto the boot partition. */
function kernelFiles(root: string, outDir: string, bootTree: string, p: ArchProfile) {
  const boot = readdirSync(join(root, 'boot'));
  const vmlinuz = boot.find((f) => f.startsWith('vmlinuz-'));
  const initrd = boot.find((f) => f.startsWith('initrd.img-'));
  require0(vmlinuz && initrd ? 0 : 1, `the rootfs has no kernel/initrd in /boot (${boot.join(' ')})`);
  mkdirSync(bootTree, { recursive: true });
  const cmdline = kernelCmdline(p);
  for (const [from, to] of [
    [vmlinuz, 'vmlinuz'],
    [initrd, 'initrd.img'],
  ] as const) {
    cpSync(join(root, 'boot', from ?? ''), join(outDir, to));
    cpSync(join(root, 'boot', from ?? ''), join(bootTree, to));
  }
  writeFileSync(join(outDir, 'cmdline.txt'), `${cmdline}\n`);
  writeFileSync(join(bootTree, 'cmdline.txt'), `${cmdline}\n`);
  writeFileSync(
    join(bootTree, 'README.txt'),
    'ElastOS box. To add an admin SSH key, copy its public key here as elastos-admin.pub: it is read on the next boot.\n',
  );
  return { cmdline, vmlinuz: join(outDir, 'vmlinuz'), initrd: join(outDir, 'initrd.img'), kernel: vmlinuz ?? '' };
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
  assembleData(trees.data, p, key, adminKey);
  const kernel = kernelFiles(trees.root, outDir, trees.boot, p);
  stages.timings.push({ name: 'assemble', cached: false, seconds: (Date.now() - t) / 1000 });
  say(`trees assembled in ${((Date.now() - t) / 1000).toFixed(1)} s`);

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
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const security = securityReport(trees.root, outDir);
  if (o.noDisk) return `[image] ${p.arch} manifest in ${outDir} (no disk)`;

  t = Date.now();
  say('stage disk: building');
  const disk = makeDisk(outDir, p, trees);
  stages.timings.push({ name: 'disk', cached: false, seconds: (Date.now() - t) / 1000 });
  say(`stage disk: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const total = (Date.now() - started) / 1000;
  const report = {
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
  };
  writeFileSync(join(outDir, 'build-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (!existsSync(join(outDir, 'disk.img'))) require0(1, 'no disk.img was written');
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
  return [
    `[image] ${p.arch} image in ${outDir}: disk.img ${mb(disk.rawBytes)}, disk.img.zst ${mb(disk.compressedBytes)}, built in ${total.toFixed(0)} s`,
    `[image] stages: ${stages.timings.map((s) => `${s.name} ${s.cached ? 'cached' : `${s.seconds.toFixed(0)} s`}`).join(', ')}`,
    `[image] systemd-analyze security elastosd.service: ${security}`,
    `[image] expected runtime PCR ${manifest.measuredBoot.pcr} after boot measurements: ${manifest.measuredBoot.pcrAfterRuntime}`,
  ].join('\n');
}

export const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as unknown;
