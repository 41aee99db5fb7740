import { createRequire } from 'node:module';
import { ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';

interface HardenAddon {
  harden(): void;
  dumpable(): boolean;
}

// runtime/native/harden, built by `npm run build:native -w runtime` (runtime/native/build.mjs).
const ADDON = '../../native/harden/build/Release/harden.node';

function addon(): HardenAddon {
  try {
    return createRequire(import.meta.url)(ADDON) as HardenAddon;
  } catch (cause) {
    throw new ElastosError('E_SETUP_REQUIRED', 'the harden addon is not built: run scripts/setup', { cause });
  }
}

/**
 * The daemon holds the unsealed runtime key: not dumpable (no ptrace or /proc/PID/mem by its own
 * uid), no core file, and no inspector on SIGUSR1 (Node opens a debugger port on it by default; a
 * listener replaces Node's handler, so the signal is only logged).
 */
export function hardenDaemon(log: Logger): void {
  addon().harden();
  process.on('SIGUSR1', () => log.warn('SIGUSR1 ignored: the inspector is disabled in elastosd'));
}

/** Whether this process is dumpable (tests, `elastos doctor`). */
export function isDumpable(): boolean {
  return addon().dumpable();
}
