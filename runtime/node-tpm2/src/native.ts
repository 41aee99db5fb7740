import { createRequire } from 'node:module';
import { TpmError } from './errors.js';

/** What the addon resolves with: named buffers and numbers (src/native/ops.h `Out`). */
export type NativeResult = Record<string, Buffer | number | undefined>;

/** The addon's one class (src/native/addon.cc). Every method returns a Promise run off the event loop. */
export interface NativeContext {
  open(tcti: string): Promise<NativeResult>;
  close(): Promise<NativeResult>;
  call(op: string, ...args: Array<number | string | boolean | Buffer>): Promise<NativeResult>;
}

interface Addon {
  Context: new () => NativeContext;
}

let addon: Addon | undefined;

/** Loads build/Release/tpm2.node once. ESYS logs go nowhere unless TSS2_LOG says otherwise. */
export function loadAddon(): Addon {
  if (addon) return addon;
  process.env.TSS2_LOG ??= 'all+NONE';
  try {
    addon = createRequire(import.meta.url)('../build/Release/tpm2.node') as Addon;
  } catch (cause) {
    throw new TpmError('E_SETUP_REQUIRED', 'the node-tpm2 binding is not built: run `npm run setup`', { cause });
  }
  return addon;
}
