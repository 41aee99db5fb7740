import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { AdminServer } from '../admin/index.js';
import { ElastosError } from '../errors/index.js';
import type { CapsuleManager } from './capsule-manager.js';
import { MAX_PACKAGE_BYTES } from './package-codec.js';

function stringArg(args: Record<string, unknown>, key: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) throw new ElastosError('E_USAGE', `${key} must be a string`);
  return value;
}

async function readPackage(path: string): Promise<Uint8Array> {
  if (!isAbsolute(path)) throw new ElastosError('E_USAGE', 'path must be absolute');
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_PACKAGE_BYTES) throw new ElastosError('E_CAPSULE_INVALID', 'package too large');
    return new Uint8Array(bytes);
  } catch (err) {
    if (err instanceof ElastosError) throw err;
    throw new ElastosError('E_NOT_FOUND', `cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Admin commands of the capsule store (runtime/spec/capsule-package.md §8). `capsule.install`
 * takes the absolute path of a package file, which the runtime reads itself.
 */
export function registerCapsuleAdmin(admin: AdminServer, capsules: CapsuleManager): void {
  admin.register('capsule.install', async (args, peer) =>
    capsules.install(await readPackage(stringArg(args, 'path')), `admin:${peer.uid}`),
  );
  admin.register('capsule.list', () => capsules.list());
  admin.register('capsule.remove', (args, peer) => capsules.remove(stringArg(args, 'name'), `admin:${peer.uid}`));
  admin.register('capsule.rollback', (args, peer) => capsules.rollback(stringArg(args, 'name'), `admin:${peer.uid}`));
}
