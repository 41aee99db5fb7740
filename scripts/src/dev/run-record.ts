/**
 * What one `npm start` started, in `<devDir>/npm-start.json`: its own pid and each child's, with
 * their start times (so a reused pid is never taken for ours). The next run reads it: a live
 * `npm start` is not disturbed (E_DAEMON_RUNNING); a dead one's leftovers are stopped, by pid.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ElastosError, processStartTime } from '@elastos/runtime';

export interface Started {
  name: string;
  pid: number;
  startTime: string;
}

interface RunFile {
  pid: number;
  startTime: string;
  children: Started[];
}

/** Running, and the same process (not a reused pid); a zombie has already ended. */
function alive(p: { pid: number; startTime: string }): boolean {
  if (processStartTime(p.pid) !== p.startTime) return false;
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function read(path: string): RunFile | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunFile;
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when none of `procs` is alive. */
export async function stopProcesses(procs: Started[], graceMs = 10_000): Promise<void> {
  const signal = (p: Started, s: NodeJS.Signals) => {
    if (!alive(p)) return;
    try {
      process.kill(p.pid, s);
    } catch {
      // gone meanwhile
    }
  };
  for (const p of procs) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (procs.some(alive) && Date.now() < deadline) await sleep(50);
  for (const p of procs) signal(p, 'SIGKILL');
  while (procs.some(alive)) await sleep(20);
}

export class RunRecord {
  private readonly file: RunFile;

  constructor(private readonly path: string) {
    this.file = { pid: process.pid, startTime: processStartTime(process.pid) ?? '', children: [] };
  }

  /**
   * Refuses while another `npm start` runs here; stops (by recorded pid) what a dead one left,
   * newest first, and names it. Then records this run.
   */
  async takeOver(say: (line: string) => void): Promise<void> {
    const last = read(this.path);
    if (last && last.pid !== process.pid && alive(last)) {
      const msg = `npm start already runs here (pid ${last.pid}): stop it with Ctrl-C, or kill ${last.pid}`;
      throw new ElastosError('E_DAEMON_RUNNING', msg);
    }
    const left = (last?.children ?? []).filter(alive).reverse();
    if (left.length > 0) {
      say(
        `the last run (pid ${last?.pid}) died and left ${left.map((c) => `${c.name} ${c.pid}`).join(', ')}: stopping them`,
      );
      await stopProcesses(left);
    }
    this.write();
  }

  add(name: string, pid: number | undefined): void {
    if (pid === undefined) return;
    this.file.children.push({ name, pid, startTime: processStartTime(pid) ?? '' });
    this.write();
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }

  private write(): void {
    writeFileSync(this.path, `${JSON.stringify(this.file, null, 2)}\n`);
  }
}
