import type { AdminServer } from '../admin/index.js';
import { ElastosError } from '../errors/index.js';
import type { CapsuleHost } from './capsule-host.js';
import type { CapsuleLogs } from './capsule-logs.js';
import type { CapsuleManager } from './capsule-manager.js';
import { readPackage } from './package-file.js';

function stringArg(args: Record<string, unknown>, key: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) throw new ElastosError('E_USAGE', `${key} must be a string`);
  return value;
}

/**
 * Admin commands of the capsule store (runtime/spec/capsule-package.md §8). `capsule.install`
 * takes the absolute path of a package file, which the runtime reads itself.
 */
export function registerCapsuleAdmin(admin: AdminServer, capsules: CapsuleManager): void {
  // Progress by step (read, verified and installed): the package's size is capped, the steps are few.
  admin.register('capsule.install', async (args, peer, call) => {
    call.progress(0, 2);
    const path = stringArg(args, 'path');
    // Read inside install: a refused file (not regular, too large) is audited like a bad package.
    const installed = await capsules.install(async () => {
      const bytes = await readPackage(path);
      call.progress(1, 2);
      return bytes;
    }, `admin:${peer.uid}`);
    call.progress(2, 2);
    return installed;
  });
  admin.register('capsule.list', () => capsules.list(), { audit: false });
  admin.register('capsule.remove', (args, peer) => capsules.remove(stringArg(args, 'name'), `admin:${peer.uid}`));
  admin.register('capsule.rollback', (args, peer) => capsules.rollback(stringArg(args, 'name'), `admin:${peer.uid}`));
}

const optInt = (args: Record<string, unknown>, key: string): number | undefined => {
  const v = args[key];
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    throw new ElastosError('E_USAGE', `${key} must be an integer >= 0`);
  return v as number;
};

/** Admin commands of running capsules: `capsule.start|stop|restart|status|logs`. */
export function registerCapsuleHostAdmin(admin: AdminServer, host: CapsuleHost, logs: CapsuleLogs): void {
  admin.register('capsule.start', (args, peer) => host.start(stringArg(args, 'name'), `admin:${peer.uid}`));
  admin.register('capsule.stop', (args) => host.stop(stringArg(args, 'name')));
  admin.register('capsule.restart', (args, peer) => host.restart(stringArg(args, 'name'), `admin:${peer.uid}`));
  // Reads, and `logs -f` polls: logged, not audited (runtime/spec/admin.md §Audit).
  admin.register('capsule.status', () => host.status(), { audit: false });
  const readLogs = async (args: Record<string, unknown>) => {
    const name = stringArg(args, 'name');
    if (!(await host.status()).some((r) => r.name === name))
      throw new ElastosError('E_NOT_FOUND', `no capsule named ${JSON.stringify(name)} is installed`);
    return logs.read(name, { lines: optInt(args, 'lines'), after: optInt(args, 'after') });
  };
  admin.register('capsule.logs', readLogs, { audit: false });
}
