/**
 * Stage "native": node-tpm2's addon, the peercred and harden addons and the capsule launcher, compiled for the
 * target inside the buildroot (arm64 through qemu-user; see README "Native parts"). Keyed by
 * the buildroot, the Node headers and the sources, so a TypeScript-only change reuses it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile } from './arch.js';
import type { NodeDist } from './node-dist.js';
import { require0, STAGES_DIR, tail } from './rootfs.js';
import { hashOf, hashTree, type StageRunner } from './stage.js';
import { REPO_ROOT } from './workspace-tree.js';

const SOURCES = {
  tpm2: join(REPO_ROOT, 'runtime', 'node-tpm2', 'src', 'native'),
  peercred: join(REPO_ROOT, 'runtime', 'native', 'peercred'),
  harden: join(REPO_ROOT, 'runtime', 'native', 'harden'),
  launcher: join(REPO_ROOT, 'runtime', 'launcher'),
  'node-addon-api': join(REPO_ROOT, 'node_modules', 'node-addon-api'),
};

const skipBuilt = (rel: string) => rel.startsWith('build/');

export async function buildNative(
  stages: StageRunner,
  p: ArchProfile,
  buildroot: string,
  node: NodeDist,
): Promise<string> {
  const key = hashOf([
    readFileSync(join(buildroot, '.done'), 'utf8'),
    node.binarySha256,
    readFileSync(join(STAGES_DIR, 'native.sh')),
    ...Object.values(SOURCES).map((d) => hashTree(d, skipBuilt)),
  ]);
  return stages.run(`native-${p.arch}`, key, (out) => {
    const work = join(buildroot, 'tree', 'build');
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    for (const [name, dir] of Object.entries(SOURCES)) {
      cpSync(dir, join(work, name), {
        recursive: true,
        filter: (s) => !s.includes('/build/') && !s.endsWith('/build'),
      });
    }
    cpSync(join(node.dir, 'package', 'include'), join(work, 'node', 'include'), { recursive: true });
    cpSync(join(STAGES_DIR, 'native.sh'), join(work, 'native.sh'));
    const r = spawnSync('chroot', [join(buildroot, 'tree'), '/bin/sh', '/build/native.sh'], {
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
    require0(r.status, `native build in the ${p.arch} buildroot: ${tail(`${r.stdout}${r.stderr}`)}`);
    cpSync(join(work, 'out'), out, { recursive: true });
    rmSync(work, { recursive: true, force: true });
  });
}
