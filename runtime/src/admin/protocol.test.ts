import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseAdminRequest } from '@elastos/protocol/admin/protocol';
import { makeTempDir } from '@elastos/testkit';
import fc from 'fast-check';
import { ElastosError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { AdminServer } from './admin-server.js';

interface Vectors {
  vectors: Array<{ line: string; reply: string }>;
}
const { vectors } = JSON.parse(
  readFileSync(new URL('../../spec/admin-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

describe('admin wire format (spec/admin.md)', () => {
  it('answers each vector line with exactly its reply line, on a real socket', async () => {
    const dir = makeTempDir();
    const sock = join(dir.path, 'admin.sock');
    const server = new AdminServer(sock, createLogger({ name: 't', level: 'silent', pretty: false }), () => {});
    server.register('version', () => ({ version: '0.1.0' }), { audit: false });
    await server.listen();
    try {
      const socket = connect(sock);
      const lines = createInterface({ input: socket })[Symbol.asyncIterator]();
      for (const v of vectors) {
        socket.write(`${v.line}\n`);
        assert.equal((await lines.next()).value, v.reply, v.line);
      }
      socket.end();
    } finally {
      await server.close();
      dir.remove();
    }
  });

  it('rejects any line from a peer with E_ADMIN_PROTOCOL only, never another error', () => {
    const line = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ id: 1, cmd: 'x', args: v })),
    );
    fc.assert(
      fc.property(line, (text) => {
        try {
          const r = parseAdminRequest(text);
          assert.ok(Number.isSafeInteger(r.id) && typeof r.cmd === 'string' && typeof r.args === 'object');
        } catch (err) {
          assert.ok(err instanceof ElastosError && err.code === 'E_ADMIN_PROTOCOL', String(err));
        }
      }),
      { numRuns: 300 },
    );
  });
});
