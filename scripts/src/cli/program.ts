import { RUNTIME_VERSION } from '@elastos/runtime';
import { Command } from 'commander';
import { callDaemon, type GlobalOptions } from './daemon-call.js';
import { failWith, printResult } from './output.js';

/** Wraps an action so every failure prints `error CODE: message` and exits with the code's status. */
function action<A extends unknown[]>(program: Command, fn: (opts: GlobalOptions, ...args: A) => Promise<unknown>) {
  return async (...args: A) => {
    const opts = program.opts<GlobalOptions>();
    try {
      const result = await fn(opts, ...args);
      if (result !== undefined) printResult(result, opts.json === true);
    } catch (err) {
      failWith(err, opts.json === true);
    }
  };
}

/** The `elastos` command tree; each issue adds its commands here. */
export function buildProgram(): Command {
  const program = new Command('elastos')
    .description('Administer the ElastOS runtime of a PC2 box')
    .version(RUNTIME_VERSION, '-V, --version', 'print the version')
    .option('--config <path>', 'config file (default: $ELASTOS_CONFIG or /etc/elastos/config.json)')
    .option('--socket <path>', 'admin socket (default: the one in the config)')
    .option('--json', 'print machine-readable JSON')
    .configureOutput({ outputError: () => {} })
    .exitOverride();

  program
    .command('version')
    .description('print the CLI version and, if it runs, the runtime version')
    .action(
      action(program, async (opts) => {
        let runtime: unknown = null;
        try {
          runtime = ((await callDaemon(opts, 'version')) as { version: string }).version;
        } catch {
          runtime = 'not running';
        }
        return { cli: RUNTIME_VERSION, runtime };
      }),
    );

  program
    .command('status')
    .description('show the running runtime: version, profile, uptime')
    .action(action(program, (opts) => callDaemon(opts, 'status')));

  return program;
}
