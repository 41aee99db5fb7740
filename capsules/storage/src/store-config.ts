/**
 * Storage's own config, `<data>/config.json` beside (never inside) the served `files/` tree,
 * written by the admin. A bad file is refused with a code that names the field.
 */
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { CapsuleError } from '@elastos/capsule-sdk';

export const DEFAULT_QUOTA = 256 * 1024 * 1024;
/** Uploads with no chunk for this long are abandoned and removed. */
export const DEFAULT_STAGING_IDLE_MS = 10 * 60_000;

export interface StoreConfig {
  quotaBytes: number;
  /** Each caller's share (default a quarter of the quota). */
  callerQuotaBytes: number;
  stagingIdleMs: number;
}

const FIELDS = ['quotaBytes', 'callerQuotaBytes', 'stagingIdleMs'] as const;

/** Reads the config without following a link; a missing file means the defaults. */
function readText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CapsuleError('E_CONFIG_INVALID', `${path} cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

export function loadConfig(path: string): StoreConfig {
  const text = readText(path);
  let v: Record<string, unknown> = {};
  if (text !== undefined) {
    try {
      v = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new CapsuleError('E_CONFIG_PARSE', `${path} is not JSON`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new CapsuleError('E_CONFIG_INVALID', `${path} is not an object`);
  }
  for (const k of FIELDS)
    if (v[k] !== undefined && !(Number.isSafeInteger(v[k]) && (v[k] as number) > 0))
      throw new CapsuleError('E_CONFIG_INVALID', `${path} ${k}: a positive integer`);
  const quotaBytes = (v.quotaBytes as number | undefined) ?? DEFAULT_QUOTA;
  return {
    quotaBytes,
    callerQuotaBytes: (v.callerQuotaBytes as number | undefined) ?? Math.max(1, Math.floor(quotaBytes / 4)),
    stagingIdleMs: (v.stagingIdleMs as number | undefined) ?? DEFAULT_STAGING_IDLE_MS,
  };
}
