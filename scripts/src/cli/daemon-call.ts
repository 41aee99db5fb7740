import { AdminClient, loadConfig } from '@elastos/runtime';
import { createProgress, type Progress } from './progress.js';

export interface GlobalOptions {
  config?: string;
  socket?: string;
  json?: boolean;
  /** Seconds to wait for the runtime's answer; 0 waits for ever. */
  timeout?: number;
}

/** The default of `--timeout`: long enough for an install or a verify of a big trail. */
export const DEFAULT_CALL_TIMEOUT_S = 120;

/** How long one admin call may wait for its answer (ms; 0 = no limit). */
export function callTimeoutMs(opts: GlobalOptions): number {
  return (opts.timeout ?? DEFAULT_CALL_TIMEOUT_S) * 1000;
}

/** The admin socket to use: --socket, else the one named by the config file. */
export function adminSocketPath(opts: GlobalOptions): string {
  return opts.socket ?? loadConfig(opts.config ?? process.env.ELASTOS_CONFIG).admin.socket;
}

/**
 * One admin call to the running runtime. With `progress` (a label), the runtime's progress
 * lines drive a bar on a TTY (never with --json).
 */
export async function callDaemon(
  opts: GlobalOptions,
  cmd: string,
  args: Record<string, unknown> = {},
  progress?: string,
): Promise<unknown> {
  const client = await AdminClient.connect(adminSocketPath(opts));
  try {
    return await callOn(client, opts, cmd, args, progress);
  } finally {
    client.close();
  }
}

/** A subscription (`audit.tail` with `follow`): `onEvent` per item until the runtime closes it (E_DAEMON_UNREACHABLE). */
export async function followDaemon(
  opts: GlobalOptions,
  cmd: string,
  args: Record<string, unknown>,
  onEvent: (event: unknown) => void,
): Promise<unknown> {
  const client = await AdminClient.connect(adminSocketPath(opts));
  try {
    return await client.call(cmd, args, { onEvent });
  } finally {
    client.close();
  }
}

/** One call on an open client: `--timeout`, and with `progress` (a label) a bar fed by the runtime. */
export async function callOn(
  client: AdminClient,
  opts: GlobalOptions,
  cmd: string,
  args: Record<string, unknown>,
  progress?: string,
): Promise<unknown> {
  const bar = progress === undefined ? undefined : lazyBar(progress, opts);
  try {
    return await client.call(cmd, args, { timeoutMs: callTimeoutMs(opts), ...(bar ? { onProgress: bar.update } : {}) });
  } finally {
    bar?.stop();
  }
}

/** A bar made on the first progress line (its total comes with it), so quick calls show none. */
export function lazyBar(
  label: string,
  opts: GlobalOptions,
): { update(done: number, total: number): void; stop(): void } {
  let bar: Progress | undefined;
  return {
    update: (done, total) => {
      bar ??= createProgress(label, Math.max(total, 1), { json: opts.json === true });
      bar.setTotal(Math.max(total, 1));
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}
