/**
 * The photo editor: an untrusted app. It asks for a 1-hour read token on one photo, reads it,
 * asks for a write token on one output file, writes the edited copy, and is refused the rest.
 */
import { attempt, idle, readFile, requestCapability, say, writeFile } from '@elastos/capsule-sdk';
import { addJpegComment } from './edit.js';

const PHOTO = 'storage://photos/vacation.jpg';
const EDITED = 'storage://photos/vacation-edited.jpg';
const HOUR = 60 * 60 * 1000;

async function main(): Promise<void> {
  const read = await attempt(`request read ${PHOTO} for 1 h`, () =>
    requestCapability({ audience: 'storage', resource: PHOTO, action: 'read', ttlMs: HOUR, reason: 'open the photo' }),
  );
  if (!read.ok) return;
  const photo = await attempt(`read ${PHOTO}`, () => readFile(PHOTO, read.value));
  if (!photo.ok) return;
  say(`photo is ${photo.value.length} bytes`);
  const write = await attempt(`request write ${EDITED} for 10 min`, () =>
    requestCapability({ audience: 'storage', resource: EDITED, action: 'write', ttlMs: 10 * 60 * 1000, maxUses: 64 }),
  );
  if (write.ok) {
    const edited = addJpegComment(photo.value, `edited by photo-editor at ${new Date().toISOString()}`);
    await attempt(`write ${EDITED} (${edited.length} bytes)`, () => writeFile(EDITED, write.value, edited));
  }
  // Everything else is refused: another file with the same token, another action, a wider scope.
  await attempt('read storage://photos/passport.jpg with the vacation token', () =>
    readFile('storage://photos/passport.jpg', read.value),
  );
  await attempt('request delete on the photo', () =>
    requestCapability({ audience: 'storage', resource: PHOTO, action: 'delete', ttlMs: HOUR }),
  );
  await attempt('request read of all of storage://', () =>
    requestCapability({ audience: 'storage', resource: 'storage://', action: 'read', ttlMs: HOUR }),
  );
}

idle();
main()
  .catch((err) => say(`photo-editor failed: ${(err as Error).message}`))
  .finally(() => say('photo-editor done'));
