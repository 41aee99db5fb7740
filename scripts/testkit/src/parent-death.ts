/**
 * A command line that runs `file` with a parent-death signal (prctl PR_SET_PDEATHSIG through
 * util-linux `setpriv`, which then execs `file`: same pid): the child is signalled when the
 * process that started it dies, even by SIGKILL, so a killed starter orphans nothing.
 */
export function withParentDeathSignal(
  signal: NodeJS.Signals | undefined,
  file: string,
  args: string[],
): [string, string[]] {
  if (signal === undefined) return [file, args];
  return ['setpriv', ['--pdeathsig', signal.replace(/^SIG/, ''), '--', file, ...args]];
}
