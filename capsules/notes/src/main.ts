/**
 * The notes app: a prefix-scoped token on `storage://notes/` lets it write and list its notes;
 * a health reading from the sysinfo provider goes into one of them.
 */
import { attempt, idle, invoke, listFiles, requestCapability, say, writeFile } from '@elastos/capsule-sdk';

const NOTES = 'storage://notes/';
const DAY = 24 * 60 * 60 * 1000;

async function main(): Promise<void> {
  const write = await attempt(`request write ${NOTES} for 1 day`, () =>
    requestCapability({ audience: 'storage', resource: NOTES, action: 'write', ttlMs: DAY }),
  );
  if (!write.ok) return;
  await attempt('write notes/todo.txt', () =>
    writeFile(`${NOTES}todo.txt`, write.value, Buffer.from('buy film\ncall the lab\nback up the photos\n')),
  );
  await attempt('write notes/diary.txt', () =>
    writeFile(`${NOTES}diary.txt`, write.value, Buffer.from('A private diary entry.\n')),
  );
  const list = await attempt(`request list ${NOTES}`, () =>
    requestCapability({ audience: 'storage', resource: NOTES, action: 'list', ttlMs: DAY }),
  );
  if (list.ok) {
    const entries = await attempt(`list ${NOTES}`, () => listFiles(NOTES, list.value));
    if (entries.ok) say(`notes: ${entries.value.map((e) => `${e.name} (${e.size} B)`).join(', ')}`);
  }
  const health = await attempt('request sysinfo://health', () =>
    requestCapability({ audience: 'sysinfo', resource: 'sysinfo://health', action: 'invoke:health', ttlMs: DAY }),
  );
  if (health.ok) {
    const h = await attempt('read health from sysinfo', () =>
      invoke('sysinfo', 'health', 'sysinfo://health', health.value),
    );
    if (h.ok) {
      say(`health: ${JSON.stringify(h.value)}`);
      await attempt('write notes/health.json', () =>
        writeFile(`${NOTES}health.json`, write.value, Buffer.from(JSON.stringify(h.value, null, 2))),
      );
    }
  }
}

idle();
main()
  .catch((err) => say(`notes failed: ${(err as Error).message}`))
  .finally(() => say('notes done'));
