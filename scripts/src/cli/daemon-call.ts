import { AdminClient, loadConfig } from '@elastos/runtime';

export interface GlobalOptions {
  config?: string;
  socket?: string;
  json?: boolean;
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
    return await client.call(cmd, args);
  } finally {
    client.close();
  }
}
