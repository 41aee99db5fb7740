// Builds each native addon under runtime/native/<name>/ (a binding.gyp) with node-gyp, only
// when a source is newer than its built .node: `npm run build:native -w runtime` (scripts/setup
// runs it on every `npm test`, so the up-to-date case must be quick). node-gyp comes through
// npm, which puts it on PATH and, with npm_config_nodedir, uses this machine's Node headers.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function newestSource(dir) {
  return readdirSync(dir)
    .filter((f) => /\.(cc|c|h|hh|gyp)$/.test(f))
    .reduce((t, f) => Math.max(t, statSync(join(dir, f)).mtimeMs), 0);
}

function built(dir) {
  const release = join(dir, 'build', 'Release');
  if (!existsSync(release)) return 0;
  const nodes = readdirSync(release).filter((f) => f.endsWith('.node'));
  return nodes.length === 0 ? 0 : Math.min(...nodes.map((f) => statSync(join(release, f)).mtimeMs));
}

for (const name of readdirSync(here)) {
  const dir = join(here, name);
  if (!existsSync(join(dir, 'binding.gyp'))) continue;
  if (built(dir) > newestSource(dir)) continue;
  process.stdout.write(`[build:native] ${name}\n`);
  const r = spawnSync('node-gyp', ['rebuild'], { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`error E_SETUP_REQUIRED: node-gyp could not build runtime/native/${name}\n`);
    process.exit(69);
  }
}
