import { AdminClient, loadConfig } from '@elastos/runtime';

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

/** One admin call to the running runtime. */
export async function callDaemon(
  opts: GlobalOptions,
  cmd: string,
  args: Record<string, unknown> = {},
): Promise<unknown> {
  const client = await AdminClient.connect(adminSocketPath(opts));
  try {
    return await client.call(cmd, args, callTimeoutMs(opts));
  } finally {
    client.close();
  }
}
