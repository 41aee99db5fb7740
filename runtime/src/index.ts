export * from './admin/index.js';
export * from './config/index.js';
export { Runtime } from './daemon/runtime.js';
export * from './errors/index.js';
export * from './health/index.js';
export * from './log/index.js';
export * from './store/index.js';
export { RUNTIME_VERSION } from './version.js';
