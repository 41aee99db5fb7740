import { parseArgs } from 'node:util';
import { configPath, loadConfig } from '../config/index.js';
import { asElastosError, ElastosError } from '../errors/index.js';
import { createLogger, logFormat } from '../log/index.js';
import { RUNTIME_VERSION } from '../version.js';
import { hardenDaemon } from './harden.js';
import { Runtime } from './runtime.js';

const HELP = `usage: elastosd [--config PATH] [--insecure-no-tpm] [--log-format json|pretty]

Runs the ElastOS runtime in the foreground until SIGINT or SIGTERM.
  --config PATH       config file (default: $ELASTOS_CONFIG or /etc/elastos/config.json)
  --insecure-no-tpm   dev profile only: run without a TPM (key kept in clear; loud warning; audited)
  --log-format F      json (JSON lines) or pretty (short lines); default: pretty on a TTY, else json
  --version       print the version
  --help          this text`;

/** elastosd: the runtime daemon, run by systemd on the box and by `npm start` in dev. */
export async function main(argv: string[]): Promise<void> {
  let values: {
    config?: string;
    version?: boolean;
    help?: boolean;
    'insecure-no-tpm'?: boolean;
    'log-format'?: string;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean' },
        'insecure-no-tpm': { type: 'boolean' },
        'log-format': { type: 'string' },
      },
    }));
  } catch (err) {
    process.stderr.write(`error E_USAGE: ${(err as Error).message}\n${HELP}\n`);
    process.exit(64);
  }
  if (values.help) return void process.stdout.write(`${HELP}\n`);
  if (values.version) return void process.stdout.write(`${RUNTIME_VERSION}\n`);

  let runtime: Runtime | undefined;
  try {
    const config = loadConfig(configPath(values.config));
    const format = values['log-format'];
    if (format !== undefined && format !== 'json' && format !== 'pretty')
      throw new ElastosError('E_USAGE', `--log-format is json or pretty, not ${format}`);
    const log = createLogger({ name: 'elastosd', level: config.logLevel, pretty: logFormat(format) === 'pretty' });
    hardenDaemon(log);
    runtime = new Runtime(config, log, { insecureNoTpm: values['insecure-no-tpm'] === true });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      void runtime?.stop().then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    await runtime.start();
  } catch (err) {
    const e = asElastosError(err);
    process.stderr.write(`${e.toLine()}\n`);
    await runtime?.stop();
    process.exit(e.exitCode);
  }
}
