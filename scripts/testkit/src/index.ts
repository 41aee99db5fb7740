export { HOSTILE_CAPSULE, LineReader, makeCapsuleDirs } from './capsule-kit.js';
export {
  cliIn,
  ELASTOS,
  ELASTOSD,
  execRun,
  noTpmDevConfig,
  pollFor,
  type Run,
  runElastos,
  stopChild,
  swtpmDevConfig,
  testInstance,
  waitFor,
} from './cli-kit.js';
export { requireFeature } from './kernel-feature.js';
export { NetWorld, type Peer } from './net-world.js';
export { withParentDeathSignal } from './parent-death.js';
export { SocatPtyPair } from './socat-pty.js';
export { Sshd, type SshKey, type SshResult } from './sshd.js';
export { Swtpm } from './swtpm.js';
export {
  type AdminAccounts,
  canCreateAccounts,
  createAdminAccounts,
  createSystemGroup,
  createSystemUser,
  runAs,
  type SystemAccount,
} from './system-user.js';
export { makeTempDir } from './tmp-dir.js';
