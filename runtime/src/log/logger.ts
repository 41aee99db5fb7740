import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * How logs look: `--log-format` (elastosd), else $ELASTOS_LOG_FORMAT, else short readable lines
 * when stderr is a TTY and JSON lines (pino's own) when it is not, as pino users expect.
 */
export function logFormat(flag?: string, env: NodeJS.ProcessEnv = process.env, tty = process.stderr.isTTY): LogFormat {
  const asked = flag ?? env.ELASTOS_LOG_FORMAT;
  if (asked === 'json' || asked === 'pretty') return asked;
  return tty ? 'pretty' : 'json';
}

/**
 * Structured logs to stderr in the format of `logFormat`; colour only on a TTY and never with
 * NO_COLOR. Errors are logged with their `code` so the log, the CLI and the audit trail agree.
 */
export function createLogger(options: { name: string; level?: string; pretty?: boolean }): Logger {
  const wantPretty = options.pretty ?? logFormat() === 'pretty';
  const base = { name: options.name, level: options.level ?? process.env.ELASTOS_LOG_LEVEL ?? 'info' };
  if (!wantPretty) return pino(base, pino.destination({ fd: 2, sync: true }));
  const stream = pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true && !process.env.NO_COLOR,
    // One short line each: time, level, source, message, then the fields on the same line.
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino(base, stream);
}
