export { HOSTILE_CAPSULE, LineReader, makeCapsuleDirs } from './capsule-kit.js';
export { requireFeature } from './kernel-feature.js';
export { SocatPtyPair } from './socat-pty.js';
export { Swtpm } from './swtpm.js';
export { makeTempDir } from './tmp-dir.js';
