/**
 * A capsule's disk quota (runtime/launcher/README.md "Disk quota"): its data lives in its own ext4
 * filesystem, an image file preallocated beside its data dir (`<data dir>.ext4`), which the launcher
 * mounts at /capsule/data in the capsule's mount namespace (`--volume`). A full volume answers
 * ENOSPC to the capsule alone: the space was taken from the store's filesystem when the volume was
 * made, so no capsule can fill it, and a volume is only made while a reserve stays free for the store.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ElastosError } from '../errors/index.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** ext4 needs a few MiB for itself (journal, inode tables): the smallest volume made. */
export const MIN_VOLUME_BYTES = 8 * MiB;

export interface VolumeTools {
  mke2fs: string;
  fallocate: string;
}

/** mke2fs (e2fsprogs), fallocate (util-linux), loop devices and ext4; undefined when one is missing. */
export function volumeTools(): VolumeTools | undefined {
  const find = (name: string) => TOOL_DIRS.map((d) => join(d, name)).find((p) => existsSync(p));
  const mke2fs = find('mke2fs');
  const fallocate = find('fallocate');
  const ext4 = existsSync('/proc/filesystems') && /\text4$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  if (mke2fs === undefined || fallocate === undefined || !ext4 || !existsSync('/dev/loop-control')) return undefined;
  return { mke2fs, fallocate };
}

export const volumePath = (dataDir: string) => `${dataDir}.ext4`;

/** Space kept free on the store's filesystem: never given to a capsule's volume. */
export function reserveBytes(totalBytes: number): number {
  return Math.max(64 * MiB, Math.floor(totalBytes * 0.05));
}

export class DataVolumes {
  constructor(private readonly tools: VolumeTools) {}

  /**
   * The capsule's volume, made on its first start: preallocated (fallocate), then formatted with
   * what its data dir already holds (mke2fs -d: an existing capsule keeps its data). An existing
   * volume is used as it is.
   */
  async prepare(dataDir: string, bytes: number, uid: number): Promise<string> {
    const image = volumePath(dataDir);
    if (existsSync(image)) return image;
    const size = Math.max(MIN_VOLUME_BYTES, Math.ceil(bytes / MiB) * MiB);
    checkSpace(dirname(image), size);
    const tmp = `${image}.new`;
    rmSync(tmp, { force: true });
    const seed = readdirSync(dataDir).length > 0 ? ['-d', dataDir] : [];
    try {
      await run(this.tools.fallocate, ['-l', String(size), tmp], { env: {} });
      // No reserved blocks (the whole size is the capsule's), no discard (the space stays allocated).
      const opts = ['-q', '-F', '-t', 'ext4', '-b', '4096', '-m', '0', '-E', `nodiscard,root_owner=${uid}:${uid}`];
      await run(this.tools.mke2fs, [...opts, ...seed, tmp], { env: {} });
      chmodSync(tmp, 0o600); // root's: only the launcher opens it
      renameSync(tmp, image);
    } catch (cause) {
      rmSync(tmp, { force: true });
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new ElastosError('E_CONFINE_DISK', `cannot make the data volume ${image}: ${why}`, { cause });
    }
    return image;
  }
}

/** A volume is made only while the store's filesystem keeps its reserve after it (E_CONFINE_DISK). */
function checkSpace(dir: string, size: number): void {
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const reserve = reserveBytes(fs.blocks * fs.bsize);
  if (free - size < reserve)
    throw new ElastosError(
      'E_CONFINE_DISK',
      `a ${size / MiB} MiB data volume would leave ${Math.floor((free - size) / MiB)} MiB free in ${dir} (reserve ${Math.floor(reserve / MiB)} MiB)`,
    );
}
