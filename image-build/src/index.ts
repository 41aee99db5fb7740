/** The image build and the QEMU box, for the HIL rig (issue 23) and other tools. */
export { type Arch, type ArchProfile, profile } from './arch.js';
export { type BuildOptions, buildImage, DEFAULT_OUT } from './build.js';
export { QemuBox, type QemuBoxOptions } from './qemu-box.js';
export { makeAdminKey, type SshAnswer, SshClient } from './ssh-client.js';
