import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ElastosError } from '../errors/index.js';

/**
 * One unprivileged uid per capsule name (gid = uid), from a range no login user uses, so that
 * capsules cannot touch each other's files or processes even outside their views.
 */
export class UidPool {
  private readonly byName = new Map<string, number>();

  constructor(
    private readonly base: number,
    private readonly count: number,
  ) {
    if (base < 1000 || count < 1) throw new RangeError('uid range must be unprivileged and non-empty');
  }

  assign(name: string): number {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    const used = new Set(this.byName.values());
    for (let uid = this.base; uid < this.base + this.count; uid++) {
      if (used.has(uid)) continue;
      this.byName.set(name, uid);
      return uid;
    }
    throw new ElastosError('E_CONFINE_LAUNCH', 'no free capsule uid left');
  }
}

/** chown -R that never follows a symlink a capsule may have planted (chown of a link changes the link). */
function chownTree(path: string, uid: number): void {
  const st = lstatSync(path);
  if (st.uid !== uid || st.gid !== uid) lchownSync(path, uid, uid);
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid);
}

/** The data dir exists, mode 0700, owned by the capsule's uid (re-owned when the uid changed). */
export function prepareDataDir(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new ElastosError('E_CONFINE_LAUNCH', `data dir ${dir} is not a directory`);
  if (st.uid !== uid) chownTree(dir, uid);
  // Private to its capsule even outside the views (another capsule's uid must not enter it).
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}
