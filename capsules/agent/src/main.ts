/**
 * An AI-agent capsule, untrusted like any app: it gets a 30-minute read token for one file and
 * is refused the rest (another file with that token, a wider grant, another action).
 */
import { attempt, CapsuleError, idle, readFile, requestCapability, say } from '@elastos/capsule-sdk';

const GRANTED_FILE = 'storage://notes/todo.txt';
const MINUTES_30 = 30 * 60 * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The notes app writes the file; until it exists, storage answers E_NOT_FOUND (a refused use costs none). */
async function readWhenThere(token: Awaited<ReturnType<typeof requestCapability>>): Promise<Buffer> {
  for (let i = 0; ; i++) {
    try {
      return await readFile(GRANTED_FILE, token);
    } catch (err) {
      if (!(err instanceof CapsuleError) || err.code !== 'E_NOT_FOUND' || i >= 50) throw err;
      await sleep(200);
    }
  }
}

async function main(): Promise<void> {
  const grant = await attempt(`request read ${GRANTED_FILE} for 30 min`, () =>
    requestCapability({
      audience: 'storage',
      resource: GRANTED_FILE,
      action: 'read',
      ttlMs: MINUTES_30,
      reason: 'summarise my todo list',
    }),
  );
  if (!grant.ok) return;
  const text = await attempt(`read ${GRANTED_FILE}`, () => readWhenThere(grant.value));
  if (text.ok) say(`todo has ${text.value.toString('utf8').split('\n').filter(Boolean).length} lines`);
  await attempt('read storage://notes/diary.txt with the todo token', () =>
    readFile('storage://notes/diary.txt', grant.value),
  );
  await attempt('read storage://photos/vacation.jpg with the todo token', () =>
    readFile('storage://photos/vacation.jpg', grant.value),
  );
  await attempt('request read of storage://notes/', () =>
    requestCapability({ audience: 'storage', resource: 'storage://notes/', action: 'read', ttlMs: MINUTES_30 }),
  );
}

idle();
main()
  .catch((err) => say(`agent failed: ${(err as Error).message}`))
  .finally(() => say('agent done'));
