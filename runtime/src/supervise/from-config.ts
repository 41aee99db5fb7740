import type { ElastosConfig } from '../config/index.js';
import { prepareConfinement } from '../confine/confine-context.js';
import type { Logger } from '../log/index.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';

/** The daemon's supervisor: confinement prepared (probed, profile applied) on the first capsule start. */
export function supervisorFromConfig(
  config: ElastosConfig,
  log: Logger,
  extra: Pick<SupervisorOptions, 'audit' | 'onChannel' | 'onOutput'> = {},
): Supervisor {
  const c = config.confine;
  const slog = log.child({ area: 'supervise' });
  const prepare = () =>
    prepareConfinement({
      profile: config.profile,
      launcher: c.launcher,
      nodePath: c.nodePath,
      cgroupParent: c.cgroupParent,
      log: slog,
      audit: extra.audit,
    });
  return new Supervisor(prepare, {
    log: slog,
    audit: extra.audit,
    onChannel: extra.onChannel,
    onOutput: extra.onOutput,
    restart: c.restart,
    stopGraceMs: c.stopGraceMs,
    uidBase: c.uidBase,
    uidCount: c.uidCount,
    tmpBytes: c.tmpBytes,
    diskBytes: c.diskBytes,
  });
}
