import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ElastosError } from '../errors/index.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One runtime per run directory: a pid file created exclusively. A stale file (its pid is gone,
 * e.g. after a kill -9 or a power cut) is taken over.
 */
export function acquireRunLock(runDir: string): () => void {
  mkdirSync(runDir, { recursive: true, mode: 0o750 });
  const path = join(runDir, 'elastosd.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isSafeInteger(pid) && pid !== process.pid && isAlive(pid)) {
        throw new ElastosError('E_DAEMON_RUNNING', `runtime pid ${pid} already runs in ${runDir}`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new ElastosError('E_DAEMON_RUNNING', `cannot take the run lock in ${runDir}`);
}
