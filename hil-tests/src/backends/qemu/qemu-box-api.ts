/**
 * The QEMU+swtpm boot module of image-build/ (issue 22: `image-build/src/qemu-box.ts`), loaded
 * at run time so that this backend builds before that module lands; a checkout without it fails
 * the rig loudly (E_SETUP_REQUIRED), never a skip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ElastosError } from '@elastos/protocol/errors';
import { REPO_ROOT } from '@elastos/scripts/dist/workspaces.js';

export interface QemuBoxOptions {
  arch: 'arm64' | 'amd64';
  imageDir: string;
  disk: string;
  dir: string;
  sshPort: number;
  mcu?: boolean;
}

/** What the rig uses of image-build's QemuBox. */
export interface QemuBoxLike {
  readonly console: string;
  readonly pids: Record<string, number | undefined>;
  start(): Promise<void>;
  qmpCommand(execute: string): Promise<void>;
  powerOff(ms: number): Promise<boolean>;
  powerCut(): Promise<void>;
  stop(): Promise<void>;
  qemuLogTail(): string;
}

export type QemuBoxClass = new (o: QemuBoxOptions) => QemuBoxLike;

export async function loadQemuBox(): Promise<QemuBoxClass> {
  // HIL_QEMU_BOX_MODULE: another checkout's built module (e.g. the image work before it merges).
  const path = process.env.HIL_QEMU_BOX_MODULE ?? join(REPO_ROOT, 'image-build', 'dist', 'qemu-box.js');
  if (!existsSync(path)) {
    throw new ElastosError(
      'E_SETUP_REQUIRED',
      `qemu rig: ${path} is missing: image-build's QEMU box (issue 22) is not in this checkout or not built (npm run build)`,
    );
  }
  const mod = (await import(pathToFileURL(path).href)) as { QemuBox: QemuBoxClass };
  return mod.QemuBox;
}
