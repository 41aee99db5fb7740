// `npm run build:native`: builds build/Release/tpm2.node with node-gyp (through npm, so it uses
// this machine's Node headers), and skips in milliseconds when no source changed since.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const target = join(root, 'build', 'Release', 'tpm2.node');
const sources = [
  join(root, 'binding.gyp'),
  __filename,
  ...readdirSync(join(root, 'src', 'native')).map((f) => join(root, 'src', 'native', f)),
];

const built = existsSync(target) ? statSync(target).mtimeMs : 0;
if (built > 0 && sources.every((f) => statSync(f).mtimeMs <= built)) process.exit(0);

const gyp = process.env.npm_config_node_gyp;
if (!gyp) {
  process.stderr.write('error E_SETUP_REQUIRED: run through npm (npm run build:native), which supplies node-gyp\n');
  process.exit(69);
}
process.stdout.write('[node-tpm2] building the native binding\n');
execFileSync(process.execPath, [gyp, 'rebuild', '--loglevel=error'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
