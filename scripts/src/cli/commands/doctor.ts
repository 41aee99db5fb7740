import { BUNDLED_LAUNCHER, type DoctorReport, doctorReport, ElastosError, loadConfig } from '@elastos/runtime';
import type { Command } from 'commander';
import { action } from '../action.js';
import type { GlobalOptions } from '../daemon-call.js';

/** The launcher named by the config when one is readable, else the bundled one. */
function launcherFor(opts: GlobalOptions): string {
  const path = opts.config ?? process.env.ELASTOS_CONFIG;
  if (path === undefined) return BUNDLED_LAUNCHER;
  return loadConfig(path).confine.launcher || BUNDLED_LAUNCHER;
}

function printTable(report: DoctorReport): void {
  const rows = report.layers.map((l) => [
    l.layer,
    l.available ? 'ok' : l.required ? 'MISSING' : 'absent',
    l.required ? 'required' : 'optional',
    l.detail,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
  for (const l of report.layers.filter((x) => !x.available)) process.stdout.write(`\nwithout ${l.layer}: ${l.meaning}`);
  process.stdout.write(report.layers.some((x) => !x.available) ? '\n' : '');
}

/** `doctor`: which confinement layers this kernel offers, and what each missing one means. */
export function registerDoctorCommands(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the confinement layers of this kernel (seccomp, namespaces, cgroup v1/v2 controllers, user namespaces, Landlock); exits 69 when production could not start capsules',
    )
    .action(
      action(program, async (opts) => {
        const report = doctorReport(launcherFor(opts));
        if (opts.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else printTable(report);
        if (report.ok) return undefined;
        const missing = report.layers.filter((l) => l.required && !l.available).map((l) => l.layer);
        if (opts.json === true) process.exit(new ElastosError('E_CONFINE_UNAVAILABLE').exitCode);
        throw new ElastosError('E_CONFINE_UNAVAILABLE', `missing required layer(s): ${missing.join(', ')}`);
      }),
    );
}
