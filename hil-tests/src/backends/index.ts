/** Every backend registers itself here, the same way; the suite imports this once. */
import { registerBackend } from '../registry.js';
import { openBoardRig } from './board/board-rig.js';
import { openLocalRig } from './local/local-rig.js';
import { openQemuRig } from './qemu/qemu-rig.js';

registerBackend('local', openLocalRig);
registerBackend('qemu', openQemuRig);
registerBackend('board', openBoardRig);
