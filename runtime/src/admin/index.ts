export { AdminClient } from './admin-client.js';
export { type AdminHandler, type AdminPeer, AdminServer, type PeerCheck } from './admin-server.js';
export { type AdminReply, type AdminRequest, parseAdminRequest } from './protocol.js';
