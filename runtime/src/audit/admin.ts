/**
 * The `audit.*` admin commands (runtime/spec/audit.md §9-§10), served by the running runtime.
 * Offline, the CLI calls the same functions on a store directory.
 */
import type { AdminServer } from '../admin/index.js';
import { ElastosError } from '../errors/index.js';
import type { AuditAnchor } from './anchor.js';
import type { AuditLog } from './audit-log.js';
import { exportRange } from './export.js';
import { followTrail } from './follow.js';
import { pruneAndAudit } from './prune.js';
import { tailRecords } from './query.js';
import { type VerifyOptions, verifyAuditLog } from './verify.js';

export interface AuditAdminDeps {
  log: AuditLog;
  publicKey?: Uint8Array;
  anchor?: AuditAnchor;
  /** Passed to the verifier: other state checked against the trail (VerifyOptions.stateChecks). */
  stateChecks?: VerifyOptions['stateChecks'];
}

const int = (args: Record<string, unknown>, name: string, fallback?: number): number => {
  const v = args[name] ?? fallback;
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    throw new ElastosError('E_USAGE', `${name} must be a non-negative integer`);
  return v as number;
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const optInt = (args: Record<string, unknown>, name: string) =>
  args[name] === undefined ? undefined : int(args, name);

function needKey(deps: AuditAdminDeps): Uint8Array {
  if (!deps.publicKey)
    throw new ElastosError('E_TPM_NOT_PROVISIONED', 'the runtime has no key: the audit log has no checkpoints');
  return deps.publicKey;
}

export function registerAuditAdmin(admin: AdminServer, deps: AuditAdminDeps): void {
  const { log } = deps;
  const store = log.store;
  // Reads of the trail (and a checkpoint, which adds no record) are not themselves audited
  // (runtime/spec/admin.md §Audit): a `tail -f` that appended a record per poll would feed itself.
  const read = { audit: false };
  // Under the checkpoint lock, so that no checkpoint is anchored between the walk and the TPM read.
  admin.register(
    'audit.verify',
    (_args, _peer, call) =>
      log.exclusive(() =>
        verifyAuditLog(store, {
          publicKeys: [needKey(deps)],
          ...(deps.anchor ? { anchor: deps.anchor } : {}),
          ...(deps.stateChecks ? { stateChecks: deps.stateChecks } : {}),
          onProgress: call.progress,
        }),
      ),
    read,
  );
  admin.register(
    'audit.status',
    () => ({ next: log.head.next, checkpoint: log.checkpoints?.lastCheckpoint ?? null }),
    read,
  );
  admin.register(
    'audit.tail',
    (args, _peer, call) => {
      const q = { limit: int(args, 'limit', 20), after: optInt(args, 'after'), since: optInt(args, 'since') };
      const capsule = typeof args.capsule === 'string' ? args.capsule : undefined;
      const query = { ...q, ...(capsule ? { capsule } : {}) };
      return args.follow === true ? followTrail(log, query, call) : tailRecords(store, query);
    },
    read,
  );
  admin.register('audit.export', (args) => exportRange(store, int(args, 'from'), int(args, 'to')), read);
  admin.register('audit.proof', (args) => exportRange(store, int(args, 'seq'), int(args, 'seq')), read);
  admin.register(
    'audit.key',
    () => ({
      keyId: deps.log.checkpoints?.lastCheckpoint?.keyId ?? null,
      publicKey: hex(needKey(deps)),
    }),
    read,
  );
  admin.register(
    'audit.checkpoint',
    async () => {
      await log.flush();
      // An admin's explicit checkpoint is anchored now: one NV write per index (spec/audit.md §7.2).
      return (await log.checkpoints?.checkpoint(true)) ?? log.checkpoints?.lastCheckpoint ?? null;
    },
    read,
  );
  admin.register('audit.prune', (args, peer) => pruneAndAudit(log, int(args, 'below'), `admin:${peer.uid}`));
}
