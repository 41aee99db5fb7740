import type { TokenSummary } from '@elastos/protocol/admin/replies';
import type { PendingAsk } from '@elastos/protocol/ipc/decision';
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon, type GlobalOptions } from '../daemon-call.js';
import { printTable } from '../output.js';

/** The runtime's token rows and the shell's pending asks, as the admin socket returns them. */
type TokenRow = TokenSummary;
type AskRow = PendingAsk & { button?: { until: string; code: number } };

/** Names the request a long press of the board's button answers now, its LED code, and until when. */
function buttonLine(rows: AskRow[]): void {
  const shown = rows.find((r) => r.button);
  if (shown?.button)
    process.stdout.write(
      `the button answers ${shown.ticket} (the LED blinks ${shown.button.code} times) until ${shown.button.until}\n`,
    );
}

/** A read command: JSON with --json, else the table `print` makes. */
function listing<T>(program: Command, cmd: string, print: (rows: T[]) => void) {
  return action(program, async (opts: GlobalOptions) => {
    const rows = (await callDaemon(opts, cmd)) as T[];
    if (opts.json) return rows;
    print(rows);
    return undefined;
  });
}

/** `token list|revoke`, `epoch show|bump`, `requests`, `approve ID`, `deny ID` (runtime/spec/token.md §8). */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('capability tokens: list live ones, revoke one');
  token
    .command('list')
    .description('show live tokens (current epoch, not expired, not revoked, uses left)')
    .action(
      listing<TokenRow>(program, 'token.list', (rows) =>
        printTable(
          ['ID', 'HOLDER', 'AUDIENCE', 'ACTION', 'RESOURCE', 'USES', 'EXPIRES'],
          rows.map((r) => [
            r.id,
            r.holder,
            r.audience,
            r.action,
            r.resource,
            `${r.uses}/${r.maxUses || '∞'}`,
            r.expiry,
          ]),
          'no live tokens',
        ),
      ),
    );
  token
    .command('revoke <id>')
    .description('revoke one token and the tokens delegated from it (audited)')
    .action(action(program, (opts, id: string) => callDaemon(opts, 'token.revoke', { id })));

  const epoch = program.command('epoch').description('the token epoch: the kill switch of every token');
  epoch
    .command('show')
    .description('the current epoch (tokens of older epochs are refused)')
    .action(action(program, (opts) => callDaemon(opts, 'epoch.show')));
  epoch
    .command('bump')
    .description('invalidate every token issued so far, at once (persisted and audited)')
    .action(action(program, (opts) => callDaemon(opts, 'epoch.bump')));

  program
    .command('requests')
    .description('capability requests the shell asks the admin to decide')
    .action(
      listing<AskRow>(program, 'requests.list', (rows) => {
        printTable(
          ['ID', 'CAPSULE', 'AUDIENCE', 'ACTION', 'RESOURCE', 'REASON'],
          rows.map((r) => [
            r.ticket,
            r.request.capsule,
            r.request.audience,
            r.request.action,
            r.request.resource,
            r.reason ?? r.request.reason ?? '',
          ]),
          'no pending requests',
        );
        buttonLine(rows);
      }),
    );
  for (const verb of ['approve', 'deny'] as const) {
    program
      .command(`${verb} <id>`)
      .description(`${verb} a pending capability request (audited)`)
      .action(action(program, (opts, id: string) => callDaemon(opts, `requests.${verb}`, { id })));
  }
}
