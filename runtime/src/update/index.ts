export { checkBundle, parseVersion, systemCompatible } from './bundle-check.js';
export { bootedSlot, nextSlot, parseEntry, readSlots, type SlotName, type SlotStatus } from './slots.js';
export { registerUpdateAdmin } from './update-admin.js';
export { UpdateService, type UpdateStatus } from './update-service.js';
export { MAX_VERSION, VersionFloor } from './version-floor.js';
