export { SocatPtyPair } from './socat-pty.js';
export { Swtpm } from './swtpm.js';
export { makeTempDir } from './tmp-dir.js';
