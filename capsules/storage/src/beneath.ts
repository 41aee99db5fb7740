/**
 * Paths beneath the served tree, resolved one component at a time without following links
 * (capsules/storage/README.md "Links"). Node has no openat(2), and a capsule cannot load an
 * addon it did not ship, so each step opens `/proc/self/fd/<dir>/<name>` with O_NOFOLLOW: the
 * kernel jumps to the already-open directory and resolves one name in it, never a link (a link
 * as the name is ELOOP). The walk is race-free: no step re-reads a path another could swap.
 */
import { closeSync, constants, lstatSync, mkdirSync, openSync } from 'node:fs';
import { CapsuleError } from '@elastos/capsule-sdk';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
/** The longest name of one path component (NAME_MAX of Linux filesystems), in bytes. */
export const NAME_MAX = 255;

/** The path of `name` inside the open directory `dirFd` (resolved by the kernel, not by us). */
export const at = (dirFd: number, name?: string): string =>
  name === undefined ? `/proc/self/fd/${dirFd}` : `/proc/self/fd/${dirFd}/${name}`;

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
 * Runs `fn` with an open descriptor of the directory `segments` beneath `root` (the root
 * itself for none), creating missing directories when asked; always closes what it opened.
 */
export function withDir<T>(root: string, segments: readonly string[], create: boolean, fn: (dirFd: number) => T): T {
  let fd = openDir(root);
  try {
    for (const seg of segments) {
      checkName(seg);
      if (create) mkdirQuiet(at(fd, seg));
      const next = openDir(at(fd, seg));
      closeSync(fd);
      fd = next;
    }
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** Opens a directory, never through a link (O_DIRECTORY makes a link ENOTDIR: say which it was). */
function openDir(path: string): number {
  try {
    return openSync(path, DIR_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR' && isLink(path))
      throw Object.assign(err as Error, { code: 'ELOOP' });
    throw err;
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function mkdirQuiet(path: string): void {
  try {
    mkdirSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
