import { accessSync, constants, existsSync, statSync } from 'node:fs';
import type { ElastosConfig, LayerStatus } from '@elastos/runtime';

/** Where a TCTI string points: `device:/dev/tpmrm0`, `swtpm:path=S`, or a TCP swtpm (not checkable here). */
function tctiPath(tcti: string): { kind: string; path?: string } {
  const [kind = '', conf = ''] = tcti.split(/:(.*)/s);
  if (kind === 'device') return { kind, path: conf || '/dev/tpmrm0' };
  const path = /(?:^|,)path=([^,]+)/.exec(conf)?.[1];
  return path ? { kind, path } : { kind };
}

/** Readable and writable by this process (a TPM device or a serial port must be both). */
function usable(path: string): string | undefined {
  if (!existsSync(path)) return `${path} does not exist`;
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    return `${path} is not readable and writable by uid ${process.getuid?.() ?? '?'}`;
  }
  return undefined;
}

/** The TPM the config names (or /dev/tpmrm0 without a config). Production refuses to start without it. */
export function tpmCheck(config: ElastosConfig | undefined): LayerStatus {
  const tcti = config?.tpm.tcti ?? 'device:/dev/tpmrm0';
  const { kind, path } = tctiPath(tcti);
  const problem = path === undefined ? undefined : usable(path);
  const isSocket = path !== undefined && existsSync(path) && statSync(path).isSocket();
  const detail = problem ?? (kind === 'device' ? `${path}` : `${tcti}${isSocket ? ' (socket present)' : ''}`);
  return {
    layer: 'tpm',
    available: problem === undefined,
    required: config?.profile !== 'dev' || !config.tpm.insecureNoTpm,
    degradable: false,
    detail,
    meaning: 'no sealed runtime key, no measured boot, no audit anchor: the production runtime refuses to start',
  };
}

/** The MCU's serial port, when the config names one. */
export function serialCheck(config: ElastosConfig | undefined): LayerStatus {
  const path = config?.serial.path ?? '';
  const problem = path === '' ? 'not configured (serial.path is empty)' : usable(path);
  return {
    layer: 'serial',
    available: problem === undefined,
    required: false,
    degradable: true,
    detail: problem ?? path,
    meaning: 'no hardware watchdog, status LED, front button (physical presence) or battery-backed clock',
  };
}
