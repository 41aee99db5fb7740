import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { MAX_PACKAGE_BYTES } from '@elastos/protocol/capsules/package-codec';
import { ElastosError } from '../errors/index.js';

/**
 * Reads a package file as root, so it checks before it reads: a regular file (O_NONBLOCK: a FIFO
 * cannot hold the open), no larger than the cap (fstat, then a bounded read: /dev/zero, a FIFO or a
 * file that grows never costs more than the cap). Refusals: E_CAPSULE_INVALID.
 */
export async function readPackage(path: string): Promise<Uint8Array> {
  if (!isAbsolute(path)) throw new ElastosError('E_USAGE', 'path must be absolute');
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new ElastosError('E_NOT_FOUND', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const st = await file.stat();
    if (!st.isFile()) throw new ElastosError('E_CAPSULE_INVALID', `${path} is not a regular file`);
    if (st.size > MAX_PACKAGE_BYTES) throw new ElastosError('E_CAPSULE_INVALID', `${path} is larger than the cap`);
    const bytes = new Uint8Array(st.size + 1);
    let got = 0;
    for (let n = -1; n !== 0 && got < bytes.length; got += n)
      n = (await file.read(bytes, got, bytes.length - got, got)).bytesRead;
    if (got > st.size) throw new ElastosError('E_CAPSULE_INVALID', `${path} grew while it was read`);
    return bytes.subarray(0, got);
  } finally {
    await file.close();
  }
}
