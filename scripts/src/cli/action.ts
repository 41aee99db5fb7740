import type { Command } from 'commander';
import type { GlobalOptions } from './daemon-call.js';
import { failWith, printResult } from './output.js';

/**
 * Wraps a command's action: global options in, result printed (JSON with --json), and every
 * failure printed as `error CODE: message` with the code's exit status. A command that prints
 * its own output returns undefined.
 */
export function action<A extends unknown[]>(
  program: Command,
  fn: (opts: GlobalOptions, ...args: A) => Promise<unknown>,
) {
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
