/**
 * How long systemd waits for the devices the runtime's units need. systemd gives a device 90 s
 * (DefaultTimeoutStartSec) and then fails every unit that requires it; under load (measured: an
 * emulated box on a busy host) udev took longer than that to create /dev/tpmrm0, and the box never
 * started its runtime. A drop-in per device gives them 10 minutes: a healthy box is not slowed
 * (the device appears in seconds), a box whose TPM is really missing still fails, later.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile } from './arch.js';

export const DEVICE_TIMEOUT_S = 600;

/** The device units the runtime's units wait for: the TPM's resource manager and the MCU's UART. */
export function awaitedDevices(p: ArchProfile): string[] {
  return ['dev-tpmrm0.device', `dev-${p.mcuTty}.device`];
}

/** `etc/systemd/system/DEVICE.d/10-elastos-timeout.conf` for each awaited device. */
export function writeDeviceTimeouts(root: string, p: ArchProfile): void {
  for (const unit of awaitedDevices(p)) {
    const dir = join(root, 'etc/systemd/system', `${unit}.d`);
    mkdirSync(dir, { recursive: true });
    const text = [
      '# image-build/src/device-timeouts.ts: the default 90 s is too short for udev on a loaded box.',
      '[Unit]',
      `JobRunningTimeoutSec=${DEVICE_TIMEOUT_S}`,
      '',
    ].join('\n');
    writeFileSync(join(dir, '10-elastos-timeout.conf'), text);
  }
}
