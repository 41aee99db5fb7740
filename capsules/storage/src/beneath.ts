/**
 * Paths beneath the served tree, checked one component at a time without following links
 * (capsules/storage/README.md "Links"). Node has no openat(2), a capsule cannot load an addon it
 * did not ship, and its permission model refuses `/proc/self/fd/<n>/...` paths, so each folder
 * on the way is lstat'ed (a link is refused, never followed) and the last step is done with
 * O_NOFOLLOW or a call that never follows its last component (rename, unlink, lstat).
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CapsuleError } from '@elastos/capsule-sdk';

/** The longest name of one path component (NAME_MAX of Linux filesystems), in bytes. */
export const NAME_MAX = 255;

/** The path of `name` inside the checked folder `dir`. */
export const at = (dir: string, name: string): string => join(dir, name);

/** A filesystem error as a storage refusal with a code; anything unforeseen stays an error. */
export function refusal(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return new CapsuleError('E_STORAGE_LINK', `${what}: a link on the way (never followed)`);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new CapsuleError('E_NOT_FOUND', `no ${what}`);
  if (code === 'ENAMETOOLONG') return new CapsuleError('E_RESOURCE_INVALID', `${what}: a name is too long`);
  if (code === 'EXDEV') return new CapsuleError('E_STORAGE_XDEV', `${what}: it would cross filesystems`);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new CapsuleError('E_CAPSULE_QUOTA', `${what}: the disk is full`);
  if (code === 'EISDIR') return new CapsuleError('E_RESOURCE_INVALID', `${what} is a folder`);
  return err;
}

/** Checks one name before the kernel sees it: the resource parser refused separators already. */
export function checkName(name: string): void {
  if (Buffer.byteLength(name) > NAME_MAX)
    throw new CapsuleError('E_RESOURCE_INVALID', `a name longer than ${NAME_MAX} bytes`);
}

/**
 * Runs `fn` with the path of the folder `segments` beneath `root` (the root itself for none),
 * each step checked to be a folder and not a link, creating missing folders when asked.
 */
export function withDir<T>(root: string, segments: readonly string[], create: boolean, fn: (dir: string) => T): T {
  let dir = root;
  checkFolder(dir);
  for (const seg of segments) {
    checkName(seg);
    dir = join(dir, seg);
    if (create) mkdirQuiet(dir);
    checkFolder(dir);
  }
  return fn(dir);
}

/** A folder that is not a link: a link is ELOOP (refused, never followed), a file ENOTDIR. */
function checkFolder(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw Object.assign(new Error(`${path} is a link`), { code: 'ELOOP' });
  if (!st.isDirectory()) throw Object.assign(new Error(`${path} is not a folder`), { code: 'ENOTDIR' });
}

function mkdirQuiet(path: string): void {
  try {
    mkdirSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
