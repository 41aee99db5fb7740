import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { CapsuleCgroup } from '../confine/cgroup.js';
import type { LaunchPlan } from '../confine/launch-plan.js';
import type { CapsuleUsage, LimitEvents } from '../confine/types.js';
import type { ErrorCode } from '../errors/index.js';
import { LogBudget } from './log-budget.js';

/** Exit status of the launcher when its own set-up failed (runtime/launcher/launch.h). */
const EXIT_SETUP = 125;
const TAIL_BYTES = 4096;

/** How one run of a capsule ended, with its cause when the kernel or the launcher caused it. */
export interface RunExit {
  code: number | null;
  signal: string | null;
  /** E_CONFINE_OOM, E_CONFINE_PIDS, E_CONFINE_LAUNCH, or undefined for an ordinary exit. */
  cause?: ErrorCode;
  /** True when the supervisor asked for the stop. */
  requested: boolean;
  /** Last bytes of the capsule's stderr (and the launcher's complaint, if any). */
  stderrTail: string;
  limitEvents: LimitEvents;
}

function tail(
  stream: Readable | null,
  keep: { text: string },
  budget: LogBudget,
  onLine: (line: string) => void,
): void {
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    keep.text = (keep.text + chunk).slice(-TAIL_BYTES);
    for (const line of chunk.split('\n'))
      if (line.trim() !== '') for (const l of budget.admit(line, Date.now())) onLine(l);
  });
}

/**
 * One run of a confined capsule: the launcher process, its channel (fd 3) and its cgroup.
 * `exited` resolves once the process is gone, the cgroup is empty and removed.
 */
export class CapsuleRun {
  readonly child: ChildProcess;
  readonly channel: Socket;
  readonly exited: Promise<RunExit>;
  readonly startedAt = Date.now();
  private stopRequested = false;
  private readonly baseline: LimitEvents;

  constructor(
    plan: LaunchPlan,
    readonly cgroup: CapsuleCgroup,
    onOutput: (stream: 'stdout' | 'stderr', line: string) => void,
    /** Undoes what was made for this run besides the cgroup (its private network), once it is empty. */
    private readonly release?: () => Promise<void>,
  ) {
    this.baseline = cgroup.events();
    this.child = spawn(plan.command, plan.args, { env: plan.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    this.channel = this.child.stdio[3] as Socket;
    const err = { text: '' };
    const budget = new LogBudget();
    tail(this.child.stdout, { text: '' }, budget, (l) => onOutput('stdout', l));
    tail(this.child.stderr, err, budget, (l) => onOutput('stderr', l));
    this.exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', () => resolve({ code: null, signal: null }));
    }).then((status) => this.finish(status, err.text));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  usage(): CapsuleUsage {
    return this.cgroup.usage();
  }

  /** Limit hits since this run started. */
  limitEvents(): LimitEvents {
    const now = this.cgroup.events();
    return { oomKills: now.oomKills - this.baseline.oomKills, pidsMax: now.pidsMax - this.baseline.pidsMax };
  }

  /** Calls `onHit` whenever the pids limit refused more forks since the last look (sampled every `ms`). */
  watchLimits(ms: number, onHit: (events: LimitEvents) => void): void {
    let seen = 0;
    const timer = setInterval(() => {
      const now = this.limitEvents();
      if (now.pidsMax > seen) onHit(now);
      seen = now.pidsMax;
    }, ms);
    timer.unref();
    void this.exited.finally(() => clearInterval(timer));
  }

  /** SIGTERM (the launcher forwards it), then after `graceMs` SIGKILL of everything in the cgroup. */
  async stop(graceMs: number): Promise<RunExit> {
    this.stopRequested = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.child.kill('SIGKILL');
      void this.cgroup.killAll().catch(() => undefined);
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async finish(status: { code: number | null; signal: string | null }, stderrTail: string): Promise<RunExit> {
    this.channel.destroy();
    // The monitor exits with the capsule, but nothing may outlive the run: empty the cgroup, remove it.
    await this.cgroup.killAll();
    const limitEvents = this.limitEvents();
    await this.cgroup.remove();
    await this.release?.();
    let cause: ErrorCode | undefined;
    if (limitEvents.oomKills > 0) cause = 'E_CONFINE_OOM';
    else if (limitEvents.pidsMax > 0 && !this.stopRequested) cause = 'E_CONFINE_PIDS';
    else if (status.code === EXIT_SETUP && stderrTail.includes('elastos-launch:')) cause = 'E_CONFINE_LAUNCH';
    else if (status.code === null && status.signal === null) cause = 'E_CONFINE_LAUNCH';
    return { ...status, cause, requested: this.stopRequested, stderrTail, limitEvents };
  }
}
