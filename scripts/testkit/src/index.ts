export { Swtpm } from './swtpm.js';
export { makeTempDir } from './tmp-dir.js';
