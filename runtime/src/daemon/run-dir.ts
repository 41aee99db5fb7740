import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import type { Logger } from '../log/index.js';

/**
 * The run directory holds the admin socket and the pid file: mode 0750, group the admin group
 * when it exists, so only root and admins can even reach the socket (the runtime checks the
 * peer's credentials again on every connection).
 */
export function prepareRunDir(runDir: string, adminGid: number | undefined, log: Logger): void {
  mkdirSync(runDir, { recursive: true, mode: 0o750 });
  chmodSync(runDir, 0o750);
  if (adminGid === undefined) {
    // Expected in dev (root administers); on a box the image creates the group.
    log.info({ runDir }, 'the admin group does not exist: only root may administer this runtime');
    return;
  }
  try {
    chownSync(runDir, process.getuid?.() ?? 0, adminGid);
  } catch (err) {
    log.warn({ err, gid: adminGid }, 'cannot give the run directory to the admin group');
  }
}
