import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeTempDir } from '@elastos/testkit';
import { pino } from 'pino';
import { AdminClient } from './admin-client.js';
import { AdminServer } from './admin-server.js';

describe("admin server's log: reads at debug, changes at info (a polling monitor does not drown the log)", () => {
  it('logs an audited command at info and a read only at debug', async () => {
    const lines: Array<{ level: number; cmd?: string }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const dir = makeTempDir();
    const server = new AdminServer(join(dir.path, 'admin.sock'), pino({ level: 'info' }, sink), () => {});
    server.register('thing.read', () => 1, { audit: false });
    server.register('thing.change', () => 2);
    await server.listen();
    const client = await AdminClient.connect(join(dir.path, 'admin.sock'));
    try {
      for (let i = 0; i < 5; i++) await client.call('thing.read');
      await client.call('thing.change');
    } finally {
      client.close();
      await server.close();
      dir.remove();
    }
    assert.deepEqual(
      lines.filter((l) => l.cmd !== undefined).map((l) => [l.level, l.cmd]),
      [[30, 'thing.change']],
    );
  });
});
