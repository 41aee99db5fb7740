export type { CapsuleCgroup, CgroupDriver } from './cgroup.js';
export { detectCgroupDriver } from './cgroup-detect.js';
export { BUNDLED_LAUNCHER, type ConfineContext, type ConfineOptions, prepareConfinement } from './confine-context.js';
export {
  type DoctorReport,
  doctorReport,
  type KernelLayers,
  type LayerStatus,
  layerReport,
  missingLayers,
  probeKernel,
} from './doctor.js';
export {
  type ClaimOptions,
  claimInstance,
  type InstanceClaim,
  liveClaims,
  processStartTime,
} from './instance-claim.js';
export { type LaunchPlan, launchPlan, nodeFlags } from './launch-plan.js';
export { seccompRules } from './seccomp-policy.js';
export { overlaps, parseSubid, readSubids, type SubidRange } from './subid.js';
export { type CapsuleLimits, type CapsuleSpec, type CapsuleUsage, type LimitEvents, VIEW } from './types.js';
