/**
 * The storage provider capsule: files under its own data dir, scoped by token. The broker has
 * checked the token (holder, scope, action, expiry, uses) before a call arrives; `serve`
 * re-verifies it with the runtime's key.
 */
import { asCapsuleError, CapsuleError, identity, type ProviderRequest, serve } from '@elastos/capsule-sdk';
import { FileStore, MAX_CHUNK } from './file-store.js';

/** A bad config or damaged state refuses the start in one coded line (the supervisor audits the exit). */
function open(): FileStore {
  try {
    return new FileStore(identity().dataDir);
  } catch (err) {
    const e = asCapsuleError(err);
    process.stderr.write(`error ${e.code}: ${e.message}\n`);
    process.exit(78);
  }
}
const store = open();

const int = (v: unknown, dflt: number): number =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : dflt;
const args = (req: ProviderRequest): Record<string, unknown> =>
  typeof req.args === 'object' && req.args !== null ? (req.args as Record<string, unknown>) : {};

serve({
  read: (req) => store.read(req.resource, int(args(req).offset, 0), int(args(req).length, MAX_CHUNK)),
  write: (req) => {
    const a = args(req);
    if (typeof a.data !== 'string') throw new CapsuleError('E_USAGE', 'write needs base64 data');
    return store.write(req.caller, req.resource, int(a.offset, 0), Buffer.from(a.data, 'base64'), a.done !== false);
  },
  list: (req) => ({ entries: store.list(req.resource) }),
  delete: (req) => {
    store.delete(req.resource);
    return { deleted: req.resource };
  },
});
process.stdout.write(`storage ready: ${store.used} of ${store.quota} bytes used\n`);
process.on('SIGTERM', () => process.exit(0));
