/** `elastos capsule new|pack`: a capsule folder is `manifest.json` plus code files (runtime/spec/capsule-package.md §2.3). */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CapsuleManifest, type CapsuleType, validateManifest } from '@elastos/protocol/capsules/manifest';
import { ElastosError } from '@elastos/protocol/errors';
import { buildPackage } from '@elastos/publisher';

/** Every file under `dir` except `manifest.json` and hidden entries; a symlink or special file is refused. */
function collect(dir: string, prefix: string, files: Map<string, Uint8Array>): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || (prefix === '' && name === 'manifest.json')) continue;
    const path = join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    const stat = lstatSync(path);
    if (stat.isDirectory()) collect(path, rel, files);
    else if (stat.isFile()) files.set(rel, new Uint8Array(readFileSync(path)));
    else throw new ElastosError('E_CAPSULE_INVALID', `${rel} is not a regular file (symlinks are not packed)`);
  }
}

export function readManifestFile(dir: string): CapsuleManifest {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch (err) {
    throw new ElastosError('E_CAPSULE_INVALID', `${join(dir, 'manifest.json')}: ${(err as Error).message}`);
  }
  return validateManifest(value);
}

/** Packs a capsule folder into an unsigned package (deterministic: same folder, same bytes). */
export function packDir(dir: string): { manifest: CapsuleManifest; bytes: Uint8Array } {
  const manifest = readManifestFile(dir);
  const files = new Map<string, Uint8Array>();
  collect(dir, '', files);
  return { manifest, bytes: buildPackage(manifest, files) };
}

const entry = (
  name: string,
) => `// Entry of the ${name} capsule. It runs confined, with no ambient authority: everything it
// may do outside its code and data folders goes through the runtime with a capability token.
process.stdout.write('capsule ${name} started\\n');
const keepAlive = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  process.exit(0);
});
`;

/** Writes a working capsule folder `parent/name` with a manifest and an entry module. */
export function scaffold(parent: string, name: string, type: CapsuleType, publisher: string): string {
  const dir = join(parent, name);
  if (existsSync(dir)) throw new ElastosError('E_CAPSULE_EXISTS', `${dir} already exists`);
  const manifest: CapsuleManifest = validateManifest({
    name,
    version: '0.1.0',
    publisher,
    type,
    entry: 'main.js',
    description: `The ${name} capsule`,
    capabilities: [],
    limits: { memoryMiB: 64, pids: 16, cpuPercent: 50 },
    network: false,
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'main.js'), entry(name));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, private: true, type: 'module' }, null, 2)}\n`);
  return dir;
}
