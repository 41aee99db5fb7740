import { RUNTIME_VERSION } from '@elastos/runtime';
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon } from '../daemon-call.js';
import { printResult } from '../output.js';
import { printCapsuleTable } from './capsule-run.js';

/** `version` and `status`. */
export function registerBasicCommands(program: Command): void {
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
    .description('show the running runtime (version, profile, uptime) and its capsules with their state')
    .action(
      action(program, async (opts) => {
        const status = (await callDaemon(opts, 'status')) as Record<string, unknown>;
        if (opts.json) return status;
        const { capsules, ...rest } = status;
        printResult(rest, false);
        if (Array.isArray(capsules)) printCapsuleTable(capsules);
        return undefined;
      }),
    );
}
