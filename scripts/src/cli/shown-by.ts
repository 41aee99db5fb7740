/**
 * Every command that changes the box names the command that shows what it changed; the help
 * of each says so (`shows: elastos ...`), and a test keeps both sides real commands.
 */
import type { Command } from 'commander';

export const SHOWN_BY: Record<string, string> = {
  provision: 'tpm status',
  'capsule install': 'capsule list',
  'capsule remove': 'capsule list',
  'capsule rollback': 'capsule list',
  'capsule start': 'ps',
  'capsule stop': 'ps',
  'capsule restart': 'ps',
  'trust add': 'trust list',
  'trust remove': 'trust list',
  'token revoke': 'token list',
  'epoch bump': 'epoch show',
  approve: 'requests',
  deny: 'requests',
  'audit prune': 'audit status',
  'audit checkpoint': 'audit status',
};

/** The command at `path` (space-separated), or undefined. */
export function findCommand(program: Command, path: string): Command | undefined {
  let cmd: Command | undefined = program;
  for (const name of path.split(' ')) cmd = cmd?.commands.find((c) => c.name() === name);
  return cmd;
}

/** Appends `(shows: elastos X)` to the description of each changing command. */
export function describeShownBy(program: Command): void {
  for (const [change, show] of Object.entries(SHOWN_BY)) {
    const cmd = findCommand(program, change);
    if (cmd) cmd.description(`${cmd.description()} (shows: elastos ${show})`);
  }
}
