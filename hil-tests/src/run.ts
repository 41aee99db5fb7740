/**
 * `npm run hil -- [--rig local|qemu|board] [--rig-file FILE] [--junit FILE] [--grep RE] [--cuts N]
 * [--image DIR]` (HIL_POWER_CUTS, HIL_QEMU_IMAGE): runs the conformance
 * suite on one rig (HIL_RIG / HIL_RIG_FILE work too), writes JUnit XML, prints the one-screen
 * summary and how long it took. The rig file is checked before anything starts. The last line
 * is `N passed, N failed`, read back from the JUnit XML (a run that wrote none counts as failed),
 * so CI can add it to its other parts.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@elastos/scripts/dist/workspaces.js';
import { rigFilePath } from './registry.js';
import { countsFromJUnit } from './report/results.js';
import { loadRigFile } from './rig-file.js';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

function main(): void {
  const { values } = parseArgs({
    options: {
      rig: { type: 'string' },
      'rig-file': { type: 'string' },
      junit: { type: 'string' },
      grep: { type: 'string' },
      cuts: { type: 'string' },
      image: { type: 'string' },
    },
  });
  const env = { ...process.env };
  if (values.rig) env.HIL_RIG = values.rig;
  if (values['rig-file']) env.HIL_RIG_FILE = values['rig-file'];
  if (values.junit) env.HIL_JUNIT = values.junit;
  if (values.cuts) env.HIL_POWER_CUTS = values.cuts;
  if (values.image) env.HIL_QEMU_IMAGE = resolve(values.image);
  const path = rigFilePath(env);
  let name: string;
  try {
    name = loadRigFile(path, env).name;
  } catch (err) {
    process.stderr.write(`error ${(err as { code?: string }).code ?? 'E_RIG_FILE'}: ${(err as Error).message}\n`);
    process.exit(78);
  }
  const suite = fileURLToPath(new URL('./suite/hil.test.js', import.meta.url));
  const mocha = join(REPO_ROOT, 'node_modules', '.bin', 'mocha');
  const only = values.grep ? ['--grep', values.grep] : []; // e.g. --grep 'power cut'
  const args = [
    '--exit',
    '--reporter',
    'spec',
    ...(env.CI || env.HIL_MUST_RUN === '1' ? ['--forbid-pending', '--forbid-only'] : []),
    ...only,
    suite,
  ];
  const started = Date.now();
  // Mocha in its own process: a Ctrl-C reaches it (the suite closes its rig) and then us.
  const child = spawn(mocha, args, { stdio: 'inherit', env });
  // A terminal's Ctrl-C reaches both of us; a SIGTERM/SIGHUP sent to this process alone (a CI
  // job's timeout) is passed on, so the suite still closes its rig.
  process.on('SIGINT', () => undefined);
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => {
    process.stdout.write(`npm run hil: rig file ${path}: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    const c = countsFromJUnit(env.HIL_JUNIT ?? join(RESULTS, `junit-${name}.xml`), started, env.HIL_MUST_RUN === '1');
    process.stdout.write(`${c.passed} passed, ${c.failed} failed\n`);
    process.exit(code === 0 && c.failed === 0 ? 0 : code || 1);
  });
}

main();
