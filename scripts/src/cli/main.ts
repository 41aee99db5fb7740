import { ElastosError } from '@elastos/runtime';
import { CommanderError } from 'commander';
import { failWith } from './output.js';
import { buildProgram } from './program.js';

/** Entry of `elastos`; usage errors print `error E_USAGE: ...` and exit 64. */
export async function main(argv: string[]): Promise<void> {
  // `elastos ... | head`: a reader that goes away is not an error of ours (as in sh, stop quietly).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(0); // --help, --version
      // A command group run without a subcommand: commander already printed its help.
      if (err.code === 'commander.help') {
        process.stderr.write('error E_USAGE: a subcommand is required (see the help above)\n');
        process.exit(64);
      }
      process.stderr.write(`error E_USAGE: ${err.message.replace(/^error: /, '')}\n`);
      process.exit(64);
    }
    // An option's own parser refused its value (e.g. `--timeout soon`): a coded line, not a trace.
    if (err instanceof ElastosError) failWith(err, argv.includes('--json'));
    throw err;
  }
}
