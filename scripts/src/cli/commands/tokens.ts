import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon, type GlobalOptions } from '../daemon-call.js';

/** Prints rows as aligned columns, or `empty` when there are none. */
function printTable(head: string[], rows: string[][], empty: string): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const table = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  for (const row of table)
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
}

interface TokenRow {
  id: string;
  holder: string;
  audience: string;
  action: string;
  resource: string;
  uses: number;
  maxUses: number;
  expiry: string;
}

interface AskRow {
  ticket: string;
  request: { capsule: string; audience: string; action: string; resource: string; reason?: string };
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

/** `token list|revoke`, `epoch bump`, `requests`, `approve ID`, `deny ID` (runtime/spec/token.md §8). */
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

  program
    .command('epoch')
    .description('the token epoch: the kill switch of every token')
    .command('bump')
    .description('invalidate every token issued so far, at once (persisted and audited)')
    .action(action(program, (opts) => callDaemon(opts, 'epoch.bump')));

  program
    .command('requests')
    .description('capability requests the shell asks the admin to decide')
    .action(
      listing<AskRow>(program, 'requests.list', (rows) =>
        printTable(
          ['ID', 'CAPSULE', 'AUDIENCE', 'ACTION', 'RESOURCE', 'REASON'],
          rows.map((r) => [
            r.ticket,
            r.request.capsule,
            r.request.audience,
            r.request.action,
            r.request.resource,
            r.request.reason ?? '',
          ]),
          'no pending requests',
        ),
      ),
    );
  for (const verb of ['approve', 'deny'] as const) {
    program
      .command(`${verb} <id>`)
      .description(`${verb} a pending capability request (audited)`)
      .action(action(program, (opts, id: string) => callDaemon(opts, `requests.${verb}`, { id })));
  }
}
