/**
 * Backends register here, the same way for every kind (labgrid's driver registry in small):
 * a backend is a function from a checked rig file to an opened Rig with its protocols.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElastosError } from '@elastos/protocol/errors';
import type { Rig } from './rig.js';
import { loadRigFile, type RigFile } from './rig-file.js';

type Opener = (file: RigFile) => Promise<Rig>;
const backends = new Map<RigFile['backend'], Opener>();

export function registerBackend<K extends RigFile['backend']>(
  kind: K,
  open: (file: Extract<RigFile, { backend: K }>) => Promise<Rig>,
): void {
  backends.set(kind, open as Opener);
}

const RIGS = fileURLToPath(new URL('../rigs/', import.meta.url));

/** The rig file: `--rig-file PATH`/HIL_RIG_FILE, else rigs/NAME.yaml for `--rig NAME`/HIL_RIG (default local). */
export function rigFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HIL_RIG_FILE) return resolve(env.HIL_RIG_FILE);
  const name = env.HIL_RIG ?? 'local';
  if (!/^[a-z0-9-]+$/.test(name)) throw new ElastosError('E_RIG_FILE', `HIL_RIG: bad rig name ${name.slice(0, 40)}`);
  return `${RIGS}${name}.yaml`;
}

export async function openRig(path = rigFilePath()): Promise<Rig> {
  const file = loadRigFile(path);
  const open = backends.get(file.backend);
  if (!open) throw new ElastosError('E_RIG_FILE', `${path}: backend ${file.backend} is not registered`);
  return open(file);
}
