import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { ElastosError } from '../errors/index.js';

/** Who is on the other end of the socket, as the kernel recorded it at connect() (unix(7) SO_PEERCRED). */
export interface AdminPeer {
  uid: number;
  gid: number;
  pid: number;
}

type PeerCredFn = (fd: number) => AdminPeer;

// runtime/native/peercred, built by `npm run build:native -w runtime` (runtime/native/build.mjs).
const ADDON = '../../native/peercred/build/Release/peercred.node';
let addon: PeerCredFn | undefined;

/** Loads the SO_PEERCRED addon once; a missing build is E_SETUP_REQUIRED (refuse to serve without it). */
export function loadPeerCred(): PeerCredFn {
  if (addon) return addon;
  try {
    const mod = createRequire(import.meta.url)(ADDON) as { peerCred: PeerCredFn };
    addon = mod.peerCred;
    return addon;
  } catch (cause) {
    throw new ElastosError('E_SETUP_REQUIRED', 'the peercred addon is not built: run scripts/setup', { cause });
  }
}

/** The connected peer's credentials; any failure is E_ADMIN_DENIED (fail closed). */
export function peerCredOf(socket: Socket): AdminPeer {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new ElastosError('E_ADMIN_DENIED', 'no file descriptor for the peer');
  try {
    return loadPeerCred()(fd);
  } catch (cause) {
    throw new ElastosError('E_ADMIN_DENIED', 'cannot read the peer credentials', { cause });
  }
}
