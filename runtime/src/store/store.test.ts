import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '@elastos/testkit';
import { hasCode } from '../errors/index.js';
import { Store } from './store.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

describe('store', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => dir.remove());

  it('keeps namespaces apart and writes atomically across them', async () => {
    const store = await Store.open(join(dir.path, 'db'));
    await store.put('tokens', 'k', enc('token'));
    await store.put('counters', 'k', enc('7'));
    assert.equal(dec(await store.get('tokens', 'k')), 'token');
    assert.equal(dec(await store.get('counters', 'k')), '7');
    assert.equal(await store.get('audit', 'k'), undefined);
    await store.batch(
      [
        { type: 'put', sublevel: store.ns('audit'), key: '1', value: enc('entry') },
        { type: 'del', sublevel: store.ns('tokens'), key: 'k' },
      ],
      { sync: true },
    );
    assert.equal(dec(await store.get('audit', '1')), 'entry');
    assert.equal(await store.get('tokens', 'k'), undefined);
    await store.close();
    await assert.rejects(store.get('audit', '1'), (e) => hasCode(e, 'E_STORE_CLOSED'));
  });

  it('refuses a second opener of the same store with E_STORE_OPEN', async () => {
    const store = await Store.open(join(dir.path, 'db'));
    try {
      const writer = fork(
        fileURLToPath(new URL('./fixtures/sync-writer.js', import.meta.url)),
        [join(dir.path, 'db')],
        {
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        },
      );
      const code = await new Promise((r) => writer.once('exit', r));
      assert.equal(code, 74); // E_STORE_OPEN's exit status
    } finally {
      await store.close();
    }
  });

  it('keeps every write acknowledged with sync after a kill -9 of the writer', async function () {
    this.timeout(30_000);
    const location = join(dir.path, 'db');
    const writer = fork(fileURLToPath(new URL('./fixtures/sync-writer.js', import.meta.url)), [location], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let acked = -1;
    await new Promise<void>((resolve) => {
      writer.on('message', (m: { acked: number }) => {
        acked = m.acked;
        // Kill at an arbitrary point well into the stream of writes.
        if (acked >= 300) {
          writer.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => writer.once('exit', r));
    const store = await Store.open(location);
    try {
      for (let i = 0; i <= acked; i++) {
        assert.equal(dec(await store.get('audit', String(i).padStart(8, '0'))), `entry ${i}`, `entry ${i} lost`);
      }
    } finally {
      await store.close();
    }
  });
});
