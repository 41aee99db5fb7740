import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findTestFiles } from './test/find-tests.js';
import { REPO_ROOT, workspaces } from './workspaces.js';

/**
 * `npm test`: lint and format check, typecheck, the boundary check, then every mocha suite of the workspaces
 * in one run, ending with `N passed, N failed`. In CI (CI=true) a pending test fails the run.
 */
function step(title: string, cmd: string, args: string[]): void {
  process.stdout.write(`\n== ${title}\n`);
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`\n0 passed, 1 failed\n`);
    process.stderr.write(`error E_INTERNAL: ${title} failed\n`);
    process.exit(1);
  }
}

const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);
const extra = process.argv.slice(2);

step('lint and format (biome)', bin('biome'), ['check', '.']);
step('typecheck and build (tsc -b)', bin('tsc'), ['-b']);
step('boundaries (dependency-cruiser, architecture.md)', process.execPath, [
  join(REPO_ROOT, 'scripts', 'dist', 'test', 'boundaries.js'),
]);

const files = findTestFiles(REPO_ROOT, workspaces());
process.stdout.write(`\n== tests (${files.length} files)\n`);
const mochaArgs = [
  '--reporter',
  join(REPO_ROOT, 'scripts', 'dist', 'test', 'summary-reporter.js'),
  '--timeout',
  '20000',
  '--exit',
  ...(process.env.CI ? ['--forbid-pending', '--forbid-only'] : []),
  // Colours only on a terminal: mocha turns them on whenever CI is set, which fills CI's logs
  // with escape codes.
  ...(process.stdout.isTTY ? [] : ['--no-color']),
  ...extra,
  ...files,
];
// The HIL conformance suite (hil-tests/) runs here on the local rig, whatever the shell's HIL_RIG
// says: the qemu and board rigs are `npm run hil -- --rig ...`.
const env = { ...process.env, HIL_RIG: 'local', HIL_RIG_FILE: '', HIL_QEMU_IMAGE: '', HIL_POWER_CUTS: '' };
const r = spawnSync(bin('mocha'), mochaArgs, { cwd: REPO_ROOT, stdio: 'inherit', env });
process.exit(r.status ?? 1);
