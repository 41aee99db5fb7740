import { ElastosError, RUNTIME_VERSION } from '@elastos/runtime';
import { Command } from 'commander';
import { registerAuditCommands } from './commands/audit.js';
import { registerBasicCommands } from './commands/basic.js';
import { registerBoardCommands } from './commands/board.js';
import { registerCapsuleCommands } from './commands/capsule.js';
import { registerDoctorCommands } from './commands/doctor.js';
import { registerHealthCommands } from './commands/health.js';
import { registerSuperviseCommands } from './commands/supervise.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerTpmCommands } from './commands/tpm.js';
import { registerTrustCommands } from './commands/trust.js';
import { DEFAULT_CALL_TIMEOUT_S } from './daemon-call.js';
import { describeShownBy } from './shown-by.js';

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new ElastosError('E_USAGE', `--timeout: not a number of seconds: ${value}`);
  return n;
}

/** The `elastos` command tree; each area registers its commands from `commands/<area>.ts`. */
export function buildProgram(): Command {
  const program = new Command('elastos')
    .description('Administer the ElastOS runtime of a PC2 box')
    .version(RUNTIME_VERSION, '-V, --version', 'print the version')
    .option('--config <path>', 'config file (default: $ELASTOS_CONFIG or /etc/elastos/config.json)')
    .option('--socket <path>', 'admin socket (default: the one in the config)')
    .option('--json', 'print machine-readable JSON')
    .option(
      '--timeout <seconds>',
      `give up on the runtime's answer after this long, with E_TIMEOUT (0: wait for ever)`,
      seconds,
      DEFAULT_CALL_TIMEOUT_S,
    )
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ outputError: () => {} })
    .exitOverride();

  registerBasicCommands(program);
  registerAuditCommands(program);
  registerTpmCommands(program);
  registerBoardCommands(program);
  registerHealthCommands(program);
  registerCapsuleCommands(program);
  registerTrustCommands(program);
  registerTokenCommands(program);
  registerDoctorCommands(program);
  registerSuperviseCommands(program);
  describeShownBy(program);
  return program;
}
