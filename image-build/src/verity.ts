/**
 * The root slot's image under dm-verity (image-build/README.md, "Boot chain"): the ext4 filesystem
 * of the root tree, then in the same slot its dm-verity hash tree (`veritysetup format
 * --hash-offset=<fs bytes>`, with the tree's superblock at that offset). The root hash goes on each
 * slot's measured kernel command line (`elastos.verity=`, disk.ts), so PCR 11 covers every byte of
 * the root. Salt and UUID are fixed, and every inode's times are SOURCE_DATE_EPOCH, so the same
 * tree gives the same filesystem bytes and the same root hash.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { require0, tail } from './rootfs.js';

/** What the manifest records (`boot.verity`) and the command line carries. */
export interface VerityInfo {
  /** The root hash (64 hex), what the initramfs opens the slot against. */
  rootHash: string;
  /** Bytes of filesystem before the hash tree (its superblock starts here): a multiple of 1 MiB. */
  hashOffset: number;
  /** 4096-byte data blocks the tree covers (hashOffset / 4096). */
  dataBlocks: number;
  /** The salt and UUID written into the tree's superblock (fixed). */
  salt: string;
  uuid: string;
  hashAlgorithm: 'sha256';
  blockSize: 4096;
}

export const VERITY_SALT = 'e1a5705e1a5705e1a5705e1a5705e1a5705e1a5705e1a5705e1a5705e1a57050';
export const VERITY_UUID = '6c1d1f0e-6f3a-4c63-9d2a-0000000000f1';
const BLOCK = 4096;
const PER_BLOCK = BLOCK / 32; // sha256 digests per hash block

/** Hash blocks of a dm-verity tree over `dataBlocks` (every level up to a single block), plus its superblock. */
export function treeBlocks(dataBlocks: number): number {
  let total = 1; // the verity superblock
  let level = dataBlocks;
  do {
    level = Math.ceil(level / PER_BLOCK);
    total += level;
  } while (level > 1);
  return total;
}

/** The largest filesystem, whole MiB, whose hash tree still fits the slot with it. */
export function fsBlocksFor(slotMib: number): number {
  const slotBlocks = (slotMib * 1048576) / BLOCK;
  const perMib = 1048576 / BLOCK;
  let fs = Math.floor((slotBlocks * PER_BLOCK) / (PER_BLOCK + 1) / perMib) * perMib;
  while (fs + treeBlocks(fs) > slotBlocks) fs -= perMib;
  return fs;
}

/** Every path in `tree` as the image names it ('/', '/usr', ...), parents first, sorted. */
export function imagePaths(tree: string): string[] {
  const out = ['/'];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(tree, rel)).sort()) {
      const p = `${rel}/${name}`;
      out.push(p);
      if (lstatSync(join(tree, p)).isDirectory()) walk(p);
    }
  };
  walk('');
  return out;
}

/**
 * Sets atime, mtime and ctime of every inode to `epoch` (debugfs, no mount): mke2fs -d copies them
 * from the tree, where they are the build's own (ctime cannot be set there), so without this two
 * builds of the same inputs give different filesystem bytes and different root hashes.
 */
export function clampTimes(image: string, tree: string, epoch: string, work: string): number {
  const paths = imagePaths(tree);
  const bad = paths.find((p) => /["\n]/.test(p));
  require0(bad ? 1 : 0, `a path debugfs cannot quote: ${JSON.stringify(bad)}`);
  const cmds = paths.flatMap((p) => ['atime', 'mtime', 'ctime'].map((f) => `sif "${p}" ${f} @${epoch}`));
  const file = `${work}.debugfs`;
  writeFileSync(file, `${cmds.join('\n')}\n`);
  const r = spawnSync('debugfs', ['-w', '-f', file, image], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, E2FSPROGS_FAKE_TIME: epoch },
  });
  rmSync(file, { force: true });
  const errors = `${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('debugfs '));
  require0(r.status === 0 && errors.length === 0 ? 0 : 1, `debugfs (clamping times): ${tail(errors.join('\n'))}`);
  return paths.length;
}

/**
 * Writes `out`: the ext4 filesystem of `tree` (no journal: the slot is never written on the box),
 * sized to leave room for its hash tree in a slot of `slotMib`, then the tree. Returns the verity
 * parameters; fails if the image does not fit the slot.
 */
export function makeRootSlot(tree: string, out: string, slotMib: number): VerityInfo {
  const dataBlocks = fsBlocksFor(slotMib);
  const hashOffset = dataBlocks * BLOCK;
  const epoch = process.env.SOURCE_DATE_EPOCH ?? '1700000000';
  rmSync(out, { force: true });
  const fsUuid = '6c1d1f0e-6f3a-4c63-9d2a-0000000000a1';
  const mkfs = spawnSync(
    'mkfs.ext4',
    [
      '-q',
      '-F',
      '-L',
      'rootA',
      '-U',
      fsUuid,
      '-E',
      `root_owner=0:0,hash_seed=${fsUuid}`,
      '-O',
      '^has_journal',
      '-b',
      String(BLOCK),
      '-T',
      'default',
      '-d',
      tree,
      out,
      String(dataBlocks),
    ],
    { encoding: 'utf8', env: { ...process.env, E2FSPROGS_FAKE_TIME: epoch } },
  );
  require0(mkfs.status, `mkfs.ext4 (root slot, ${dataBlocks} blocks): ${tail(`${mkfs.stdout}${mkfs.stderr}`)}`);
  clampTimes(out, tree, epoch, out);
  require0(statSync(out).size === hashOffset ? 0 : 1, `the root filesystem is not ${hashOffset} bytes`);
  const v = formatVerity(out, dataBlocks);
  const size = statSync(out).size;
  require0(
    size <= slotMib * 1048576 ? 0 : 1,
    `the root slot image (${size} bytes) does not fit its ${slotMib} MiB partition`,
  );
  return v;
}

/**
 * Writes the dm-verity tree of the first `dataBlocks` blocks of `image` (its filesystem) right
 * after them, in the same file, and returns the parameters with the root hash.
 */
export function formatVerity(image: string, dataBlocks: number): VerityInfo {
  const hashOffset = dataBlocks * BLOCK;
  const f = spawnSync(
    'veritysetup',
    [
      'format',
      `--hash-offset=${hashOffset}`,
      `--data-blocks=${dataBlocks}`,
      `--data-block-size=${BLOCK}`,
      `--hash-block-size=${BLOCK}`,
      '--hash=sha256',
      `--salt=${VERITY_SALT}`,
      `--uuid=${VERITY_UUID}`,
      image,
      image,
    ],
    { encoding: 'utf8' },
  );
  require0(f.status, `veritysetup format: ${tail(`${f.stdout}${f.stderr}`)}`);
  const m = /Root hash:\s+([0-9a-f]{64})/.exec(f.stdout);
  require0(m ? 0 : 1, `veritysetup format printed no root hash: ${f.stdout}`);
  return {
    rootHash: m?.[1] ?? '',
    hashOffset,
    dataBlocks,
    salt: VERITY_SALT,
    uuid: VERITY_UUID,
    hashAlgorithm: 'sha256',
    blockSize: BLOCK,
  };
}

/** `veritysetup verify` of a slot image against a root hash: true when every block matches. */
export function verifyRootSlot(image: string, v: Pick<VerityInfo, 'rootHash' | 'hashOffset'>): boolean {
  const r = spawnSync('veritysetup', ['verify', `--hash-offset=${v.hashOffset}`, image, image, v.rootHash], {
    encoding: 'utf8',
  });
  return r.status === 0;
}
