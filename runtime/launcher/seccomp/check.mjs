// Build step (Makefile): compiles each architecture's allow list with the launcher just built, so a
// name libseccomp or the architecture does not know fails the build, not only a capsule's launch.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [launcher] = process.argv.slice(2);
for (const arch of ['x86_64', 'aarch64']) {
  const table = JSON.parse(readFileSync(new URL(`./${arch}.json`, import.meta.url), 'utf8'));
  const args = table.groups.flatMap((g) => g.syscalls.flatMap((s) => ['--seccomp-allow', s]));
  execFileSync(launcher, [...args, '--seccomp-export', arch], { stdio: ['ignore', 'ignore', 'inherit'] });
}
