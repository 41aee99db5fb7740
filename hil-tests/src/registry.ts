/**
 * Backends register here, the same way for every kind (labgrid's driver registry in small):
 * a backend is a function from a checked rig file to an opened Rig with its protocols.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElastosError } from '@elastos/protocol/errors';
import { Rig } from './rig.js';
import { loadRigFile, type RigFile } from './rig-file.js';

type Opener = (rig: Rig, file: RigFile) => Promise<void>;
const backends = new Map<RigFile['backend'], Opener>();

/** A backend fills the rig it is given (protocols, closers, pids); on failure the caller closes it. */
export function registerBackend<K extends RigFile['backend']>(
  kind: K,
  open: (rig: Rig, file: Extract<RigFile, { backend: K }>) => Promise<void>,
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

/**
 * The rig at once (so that whoever holds it can close it whatever happens) and its opening:
 * `opened` settles when the backend has started everything.
 */
export function createRig(path = rigFilePath()): { rig: Rig; opened: Promise<void> } {
  const file = loadRigFile(path);
  const rig = new Rig(file);
  const open = backends.get(file.backend);
  if (!open) throw new ElastosError('E_RIG_FILE', `${path}: backend ${file.backend} is not registered`);
  return { rig, opened: open(rig, file) };
}
