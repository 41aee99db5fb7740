import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { profile } from './arch.js';
import { applyOverlay } from './image-tree.js';

const SYSTEM = 'etc/systemd/system';
/** Longer than the 90 s udev once needed under load, with room to spare. */
const AT_LEAST_S = 300;

/** Every `dev-*.device` the image's own units order after or require. */
function devicesWaitedFor(root: string): string[] {
  const found = new Set<string>();
  for (const f of readdirSync(join(root, SYSTEM)).filter((f) => /^elastos.*\.service$/.test(f))) {
    for (const line of readFileSync(join(root, SYSTEM, f), 'utf8').split('\n')) {
      const m = line.match(/^(?:Requires|After|Wants|BindsTo)=(.*)$/);
      for (const unit of m?.[1]?.split(/\s+/) ?? []) if (/^dev-.+\.device$/.test(unit)) found.add(unit);
    }
  }
  return [...found].sort();
}

/** JobRunningTimeoutSec= of a device's drop-ins, in seconds (`600`, `600s`, `10min`). */
function runningTimeoutS(root: string, unit: string): number | undefined {
  const dir = join(root, SYSTEM, `${unit}.d`);
  if (!existsSync(dir)) return undefined;
  let value: number | undefined;
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.conf'))
    .sort()) {
    const m = readFileSync(join(dir, f), 'utf8').match(/^JobRunningTimeoutSec=(\d+)(s|min)?\s*$/m);
    if (m) value = Number(m[1]) * (m[2] === 'min' ? 60 : 1);
  }
  return value;
}

describe('image: the devices the runtime waits for have a timeout longer than systemd’s 90 s', () => {
  for (const arch of ['amd64', 'arm64']) {
    it(`${arch}: every device unit the elastos units wait for has a drop-in of at least ${AT_LEAST_S} s`, () => {
      const dir = makeTempDir('elastos-units-');
      try {
        applyOverlay(dir.path, profile(arch));
        const devices = devicesWaitedFor(dir.path);
        assert.ok(devices.includes('dev-tpmrm0.device'), `the TPM is among ${devices.join(' ')}`);
        for (const unit of devices) {
          const s = runningTimeoutS(dir.path, unit);
          assert.ok(
            s !== undefined && s >= AT_LEAST_S,
            `${unit}: JobRunningTimeoutSec ${s ?? 'unset'} (< ${AT_LEAST_S} s)`,
          );
          // systemd ignores a key it does not know with only a warning: its own parser must accept it.
          const r = spawnSync('systemd-analyze', [`--root=${dir.path}`, 'verify', '--man=no', unit], {
            encoding: 'utf8',
          });
          assert.equal(r.error, undefined, `systemd-analyze: ${r.error?.message}`);
          assert.equal(`${r.stdout}${r.stderr}`.trim(), '', `systemd-analyze verify ${unit}`);
          assert.equal(r.status, 0);
        }
      } finally {
        dir.remove();
      }
    });
  }
});
