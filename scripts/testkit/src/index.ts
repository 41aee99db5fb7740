export { HOSTILE_CAPSULE, LineReader, makeCapsuleDirs } from './capsule-kit.js';
export { Swtpm } from './swtpm.js';
export { makeTempDir } from './tmp-dir.js';
