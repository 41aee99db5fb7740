export {
  type AdminEvent,
  type AdminProgress,
  type AdminReply,
  type AdminRequest,
  parseAdminRequest,
} from '@elastos/protocol/admin/protocol';
export { type AdminCallOptions, AdminClient } from './admin-client.js';
export { type AdminGroupPolicy, adminGroupPolicy, lookupGroup, parseGroupFile, processGroups } from './admin-group.js';
export {
  type AdminCallContext,
  type AdminHandler,
  AdminServer,
  type AdminServerOptions,
  type PeerPolicy,
  type RegisterOptions,
} from './admin-server.js';
export { type AdminPeer, peerCredOf } from './peer-cred.js';
