import type { AdminServer } from '../admin/index.js';
import type { ElastosConfig } from '../config/index.js';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import type { BootedRuntime } from './tpm-boot.js';
import { tpmStatus } from './tpm-status.js';

/** A caller's nonce: 1-64 bytes as hex (TPM2B_DATA holds at most a digest's worth). */
export function parseNonce(hex: unknown): Uint8Array {
  if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2}){1,64}$/.test(hex)) {
    throw new ElastosError('E_USAGE', 'the nonce must be 1 to 64 bytes of hex');
  }
  return Buffer.from(hex, 'hex');
}

/** Files as base64 strings, for the JSON admin protocol (runtime/spec/admin.md). */
export function filesToJson(files: Record<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
}

/** `tpm.status` and `tpm.attest {nonce}` on the admin socket: the running runtime owns the TPM connection. */
export function registerTpmCommands(
  admin: AdminServer,
  config: ElastosConfig,
  store: Store,
  boot: BootedRuntime,
): void {
  admin.register('tpm.status', () => tpmStatus(config, store, boot.tpm), { audit: false });
  admin.register('tpm.attest', async (args) => ({ files: filesToJson(await boot.attest(parseNonce(args.nonce))) }));
}
