import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Structured logs to stderr: JSON lines for machines, pretty lines when stderr is a TTY
 * (or ELASTOS_LOG_PRETTY=1). Colour only on a TTY and never with NO_COLOR.
 * Errors are logged with their `code` so the log, the CLI and the audit trail agree.
 */
export function createLogger(options: { name: string; level?: string; pretty?: boolean }): Logger {
  const wantPretty = options.pretty ?? (process.stderr.isTTY || process.env.ELASTOS_LOG_PRETTY === '1');
  const base = { name: options.name, level: options.level ?? process.env.ELASTOS_LOG_LEVEL ?? 'info' };
  if (!wantPretty) return pino(base, pino.destination({ fd: 2, sync: true }));
  const stream = pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true && !process.env.NO_COLOR,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return pino(base, stream);
}
