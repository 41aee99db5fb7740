import {
  BUNDLED_LAUNCHER,
  type DoctorReport,
  doctorReport,
  ElastosError,
  type LayerStatus,
  loadConfig,
} from '@elastos/runtime';
import type { Command } from 'commander';
import { action } from '../action.js';
import type { GlobalOptions } from '../daemon-call.js';
import { serialCheck, tpmCheck } from '../hardware-check.js';

/** The config named by --config or $ELASTOS_CONFIG, if any (doctor also runs on a box not set up yet). */
function configFor(opts: GlobalOptions) {
  const path = opts.config ?? process.env.ELASTOS_CONFIG;
  return path === undefined ? undefined : loadConfig(path);
}

/**
 * The kernel's confinement layers (they decide `ok` and the exit status: can production start
 * capsules here), then the hardware the runtime uses: the TPM and the MCU's serial port. A missing
 * TPM is reported here; the runtime itself refuses to start without one (E_TPM_UNAVAILABLE).
 */
function fullReport(opts: GlobalOptions): DoctorReport & { hardware: LayerStatus[] } {
  const config = configFor(opts);
  const kernel = doctorReport(config?.confine.launcher || BUNDLED_LAUNCHER);
  return { ...kernel, hardware: [tpmCheck(config), serialCheck(config)] };
}

function printTable(report: DoctorReport & { hardware: LayerStatus[] }): void {
  const all = [...report.layers, ...report.hardware];
  const rows = all.map((l) => [
    l.layer,
    l.available ? 'ok' : l.required ? 'MISSING' : 'absent',
    l.required ? 'required' : 'optional',
    l.detail,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
  for (const l of all.filter((x) => !x.available)) process.stdout.write(`\nwithout ${l.layer}: ${l.meaning}`);
  process.stdout.write(all.some((x) => !x.available) ? '\n' : '');
}

/** `doctor`: which confinement layers this kernel offers, and what each missing one means. */
export function registerDoctorCommands(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the confinement layers of this kernel (seccomp, namespaces, cgroup v1/v2 controllers, user namespaces, Landlock) and the hardware (TPM device, MCU serial port); exits 69 when production could not start capsules',
    )
    .action(
      action(program, async (opts) => {
        const report = fullReport(opts);
        if (opts.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else printTable(report);
        if (report.ok) return undefined;
        const missing = report.layers.filter((l) => l.required && !l.available).map((l) => l.layer);
        if (opts.json === true) process.exit(new ElastosError('E_CONFINE_UNAVAILABLE').exitCode);
        throw new ElastosError('E_CONFINE_UNAVAILABLE', `missing required layer(s): ${missing.join(', ')}`);
      }),
    );
}
