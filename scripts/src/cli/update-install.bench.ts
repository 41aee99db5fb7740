/**
 * What an update's install costs against the floor of writing the same slot (issue 24,
 * runtime/spec/update.md §5), measured in the same run: `rauc install` through RAUC's D-Bus
 * service (as the runtime asks it: `rauc install FILE`, the client talking to the service on the
 * bus), with the image's boot loader backend and bundle hook, of a signed plain bundle whose root
 * slot is a real ext4 (host system files and incompressible files), into slot B; against `dd` of
 * the same ext4 image onto the same slot file. And the bundle's size against `zstd -T0 -9` of
 * the same image. Prints one JSON array of {name, value, unit, baseline, ratio, goal}.
 *
 * ELASTOS_BENCH_SLOT_MIB sets the slot size (default 256; the image's slots are larger, the
 * ratio is what to read). Needs root (RAUC loop-mounts the bundle and the slot), rauc, dbus-daemon,
 * mksquashfs, zstd: what `npm run setup` installs for update-cli.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileHash, makeSignKey, makeTempDir, makeTestBundle, RaucRig } from '@elastos/testkit';

const MIB = 1 << 20;
const SLOT_MIB = Number(process.env.ELASTOS_BENCH_SLOT_MIB ?? 256);
const ROUNDS = 3;
/** One random file of the image, kept beside it to check what the install wrote. */
const BLOB = '/usr/share/elastos/blob-0';
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const say = (s: string) => process.stderr.write(`  update-install: ${s}\n`);

/** Regular files of the host's `from`, in name order, copied under `to` until `budget` bytes. */
function copyHostFiles(from: string, to: string, budget: number): number {
  let left = budget;
  const walk = (src: string, dst: string) => {
    let names: string[];
    try {
      names = readdirSync(src).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (left <= 0) return;
      const s = join(src, name);
      const st = lstatSync(s);
      if (st.isDirectory()) walk(s, join(dst, name));
      else if (st.isFile() && st.size > 0 && st.size <= left) {
        mkdirSync(dst, { recursive: true });
        try {
          copyFileSync(s, join(dst, name));
          left -= st.size;
        } catch {}
      }
    }
  };
  walk(from, to);
  return budget - left;
}

/**
 * A root slot image like the image's: ext4 of SLOT_MIB, about half of it the host's own system
 * files (ELF, scripts, data: what a Debian root holds, compressible ~2-3x) and 15% random bytes
 * (already-compressed content), the rest free space (zeros, as a fresh mkfs leaves it).
 */
function makeRootfs(dir: string): string {
  const tree = join(dir, 'tree');
  const sys = copyHostFiles('/usr/lib', join(tree, 'usr/lib'), Math.floor(SLOT_MIB * 0.5) * MIB);
  const blobs = Math.floor((SLOT_MIB * 0.15) / 4);
  mkdirSync(join(tree, 'usr/share/elastos'), { recursive: true });
  for (let i = 0; i < blobs; i++) writeFileSync(join(tree, `usr/share/elastos/blob-${i}`), randomBytes(4 * MIB));
  copyFileSync(join(tree, BLOB), join(dir, 'blob'));
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc/os-release'), 'ID=elastos\nIMAGE_VERSION=7\n');
  const img = join(dir, 'rootfs.ext4');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, img, `${SLOT_MIB}M`]);
  rmSync(tree, { recursive: true, force: true });
  say(`rootfs.ext4 ${SLOT_MIB} MiB: ${(sys / MIB).toFixed(0)} MiB of /usr/lib, ${blobs * 4} MiB random`);
  return img;
}

/** Wall time of one child process, in ms; it must exit 0. */
function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return ms;
}

async function main(): Promise<void> {
  const dir = makeTempDir('bench-update-');
  const rig = new RaucRig(join(dir.path, 'rig'), join(dir.path, 'keys/vendor.cert.pem'), undefined, `${SLOT_MIB}M`);
  const rows = [];
  try {
    const key = makeSignKey(join(dir.path, 'keys'), 'vendor');
    const rootfs = makeRootfs(dir.path);
    const bundle = makeTestBundle(join(dir.path, 'work'), {
      version: '7',
      key,
      rootfs,
      out: join(dir.path, 'b.raucb'),
    });
    execFileSync('zstd', ['-q', '-T0', '-9', '-f', rootfs, '-o', join(dir.path, 'rootfs.ext4.zst')]);
    const bundleBytes = statSync(bundle).size;
    const zstdBytes = statSync(join(dir.path, 'rootfs.ext4.zst')).size;

    await rig.start(5);
    const env = { ...process.env, ...rig.env };
    const slotB = rig.slotImage('b');
    const install = () => timed('rauc', ['install', bundle], env);
    // RAUC opens the slot O_WRONLY and writes it in place (a partition cannot be truncated):
    // conv=notrunc does the same, where plain dd would truncate the file and allocate it anew.
    // RAUC 1.8 fsyncs the slot after its copy (seen with strace -f on the service: open O_WRONLY,
    // fsync, then a rw mount of the slot for the bundle's post-install hook); conv=fsync makes dd
    // pay for durability too, or the baseline would only measure the page cache.
    const dd = () => timed('dd', [`if=${rootfs}`, `of=${slotB}`, 'bs=1M', 'conv=notrunc,fsync', 'status=none'], env);

    // Warm-up, not counted: slot B (empty until now) gets its blocks, and the install is checked
    // to have written the image to slot B and left slot A alone. Not byte for byte: RAUC mounts
    // the new slot for the bundle's post-install hook, which updates its superblock.
    const emptyA = fileHash(rig.slotImage('a'));
    install();
    const fromB = (f: string) => {
      const out = join(dir.path, 'from-b');
      rmSync(out, { force: true });
      execFileSync('debugfs', ['-R', `dump ${f} ${out}`, slotB], { stdio: 'ignore' });
      return readFileSync(out);
    };
    const osRelease = fromB('/etc/os-release').toString();
    if (!osRelease.includes('IMAGE_VERSION=7') || !fromB(BLOB).equals(readFileSync(join(dir.path, 'blob'))))
      throw new Error('rauc install did not write the image to slot B');
    if (fileHash(rig.slotImage('a')) !== emptyA) throw new Error('rauc install wrote slot A');
    dd();

    // Alternating, median of each: the machine is shared, load comes and goes.
    const installs: number[] = [];
    const dds: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        installs.push(install());
        dds.push(dd());
      } else {
        dds.push(dd());
        installs.push(install());
      }
      say(`round ${i + 1}: install ${installs[i]?.toFixed(0)} ms, dd ${dds[i]?.toFixed(0)} ms`);
    }
    const inst = median(installs);
    const base = median(dds);
    rows.push({
      name: `update.install-vs-dd (${SLOT_MIB} MiB ext4 slot)`,
      value: inst,
      unit: 'ms',
      baseline: base,
      ratio: inst / base,
      goal: 'reported: rauc install via D-Bus vs dd conv=notrunc,fsync, same image, same slot',
    });
    rows.push({
      name: 'bundle.size-vs-zstd',
      value: bundleBytes,
      unit: 'bytes',
      baseline: zstdBytes,
      ratio: bundleBytes / zstdBytes,
      goal: 'reported: signed plain bundle (squashfs) vs zstd -T0 -9 of the slot image',
    });
  } finally {
    await rig.stop();
    dir.remove();
  }
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

await main();
