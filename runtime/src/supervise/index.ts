export type { RunExit } from './capsule-run.js';
export { DEFAULT_RESTART_POLICY, type RestartPolicy } from './crash-policy.js';
export { supervisorFromConfig } from './from-config.js';
export { type CapsuleState, type CapsuleStatus, Supervisor, type SupervisorOptions } from './supervisor.js';
