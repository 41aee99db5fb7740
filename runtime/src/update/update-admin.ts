import type { AdminServer } from '../admin/index.js';
import { ElastosError } from '../errors/index.js';
import type { UpdateService } from './update-service.js';

/** `update.install {file}`, `update.status`, `update.undo`, `update.confirm` on the admin socket (update.md §5). */
export function registerUpdateAdmin(admin: AdminServer, updates: UpdateService): void {
  admin.register('update.status', () => updates.status(), { audit: false });
  admin.register('update.install', (args, peer, call) => {
    if (typeof args.file !== 'string' || !args.file.startsWith('/'))
      throw new ElastosError('E_USAGE', 'update.install needs {file: an absolute path}');
    return updates.install(args.file, `admin:${peer.uid}`, (done, total) => call.progress(done, total));
  });
  admin.register('update.undo', (_args, peer) => updates.undo(`admin:${peer.uid}`));
  // systemd-bless-boot's drop-in calls it once the entry is marked good (image-build/overlay).
  admin.register('update.confirm', () => updates.reconcile());
}
