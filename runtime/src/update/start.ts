import { existsSync } from 'node:fs';
import type { AdminServer } from '../admin/index.js';
import type { AuditSink } from '../audit/audit-sink.js';
import type { BootedRuntime } from '../boot/tpm-boot.js';
import type { ElastosConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { registerUpdateAdmin } from './update-admin.js';
import { UpdateService } from './update-service.js';
import { type Floor, VersionFloor } from './version-floor.js';

export interface UpdateDeps {
  config: ElastosConfig;
  admin: AdminServer;
  audit: AuditSink;
  boot: BootedRuntime;
  log: Logger;
  adminGid: number | undefined;
}

/**
 * The update commands, and at start the reconciliation of the booted slot with the last install
 * (update.md §3-4). The floor's counters are opened only on a system with slots (a RAUC config),
 * and never stop the runtime: a broken floor refuses updates (E_UPDATE_FLOOR), not the box.
 */
export async function startUpdates(d: UpdateDeps): Promise<UpdateService> {
  const u = d.config.update;
  let floor: Floor | undefined;
  const tpm = d.boot.tpm;
  if (existsSync(u.systemConf) && tpm) {
    floor = await VersionFloor.open(tpm, u.nvFloorIndex, u.nvBaseIndex).catch((err: Error) => {
      d.log.error({ err }, 'the update version floor does not open: updates will be refused');
      return brokenFloor(err);
    });
  }
  const updates = new UpdateService(d.config, d.audit, floor);
  try {
    updates.prepareInbox(d.adminGid);
  } catch (err) {
    d.log.warn({ err, inbox: u.inboxDir }, 'the update inbox is not writable: install from a file on the box');
  }
  registerUpdateAdmin(d.admin, updates);
  await updates.reconcile().catch((err: Error) => d.log.error({ err }, 'update reconciliation failed'));
  return updates;
}

function brokenFloor(err: Error): Floor {
  const fail = () => Promise.reject(err);
  return { read: fail, raiseTo: fail };
}
