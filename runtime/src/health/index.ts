export { type CapsuleUsage, type CapsuleUsageSource, type HealthReading, HealthSampler } from './health-sampler.js';
