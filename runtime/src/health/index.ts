export {
  type CapsuleHealth,
  type CapsuleHealthSource,
  capsuleHealthOf,
  type HealthReading,
  HealthSampler,
} from './health-sampler.js';
