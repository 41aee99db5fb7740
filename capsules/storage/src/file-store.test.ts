import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { FileStore, MAX_CHUNK, segmentsOf } from './file-store.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('storage provider: files under its data dir, chunked, with a quota', () => {
  const dir = makeTempDir('storage-');
  after(() => dir.remove());

  it('writes a large file in chunks that appears only on the last one, then reads it back in chunks', () => {
    const store = new FileStore(join(dir.path, 'a'));
    const data = Buffer.alloc(MAX_CHUNK * 2 + 100, 7);
    const r = 'storage://photos/big.bin';
    store.write('app', r, 0, data.subarray(0, MAX_CHUNK), false);
    store.write('app', r, MAX_CHUNK, data.subarray(MAX_CHUNK, 2 * MAX_CHUNK), false);
    assert.equal(
      codeOf(() => store.read(r, 0, 10)),
      'E_NOT_FOUND',
      'half an upload is invisible',
    );
    store.write('app', r, 2 * MAX_CHUNK, data.subarray(2 * MAX_CHUNK), true);
    const parts: Buffer[] = [];
    for (let off = 0, eof = false; !eof; ) {
      const c = store.read(r, off, MAX_CHUNK * 4);
      const b = Buffer.from(c.data, 'base64');
      assert.ok(b.length <= MAX_CHUNK);
      parts.push(b);
      off += b.length;
      eof = c.eof;
    }
    assert.deepEqual(Buffer.concat(parts), data);
    assert.equal(store.used, data.length);
  });

  it('refuses chunks out of order, a folder as a file, and paths that leave its files', () => {
    const store = new FileStore(join(dir.path, 'b'));
    store.write('app', 'storage://x', 0, Buffer.from('ab'), false);
    assert.equal(
      codeOf(() => store.write('app', 'storage://x', 5, Buffer.from('c'), true)),
      'E_USAGE',
    );
    assert.equal(
      codeOf(() => store.write('app', 'storage://dir/', 0, Buffer.from('c'), true)),
      'E_RESOURCE_INVALID',
    );
    for (const bad of ['storage://../etc/passwd', 'storage://a//b', 'storage://a/./b', 'file:///etc/passwd']) {
      assert.equal(
        codeOf(() => segmentsOf(bad)),
        'E_RESOURCE_INVALID',
        bad,
      );
    }
  });

  it('lists a folder and deletes a file; missing ones are E_NOT_FOUND', () => {
    const store = new FileStore(join(dir.path, 'c'));
    store.write('app', 'storage://notes/a.txt', 0, Buffer.from('hello'), true);
    store.write('app', 'storage://notes/sub/b.txt', 0, Buffer.from('x'), true);
    assert.deepEqual(store.list('storage://notes/'), [
      { name: 'a.txt', dir: false, size: 5 },
      { name: 'sub', dir: true, size: 0 },
    ]);
    store.delete('storage://notes/a.txt');
    assert.equal(store.used, 1);
    assert.equal(
      codeOf(() => store.delete('storage://notes/a.txt')),
      'E_NOT_FOUND',
    );
    assert.equal(
      codeOf(() => store.list('storage://nothing/')),
      'E_NOT_FOUND',
    );
  });

  it('refuses a write over the quota with E_CAPSULE_QUOTA and keeps what was there; an overwrite frees the old size once done', () => {
    const root = join(dir.path, 'd');
    new FileStore(root);
    writeFileSync(join(root, 'config.json'), JSON.stringify({ quotaBytes: 100, callerQuotaBytes: 100 }));
    const store = new FileStore(root);
    store.write('app', 'storage://f', 0, Buffer.alloc(80), true);
    assert.equal(
      codeOf(() => store.write('app', 'storage://g', 0, Buffer.alloc(30), true)),
      'E_CAPSULE_QUOTA',
    );
    assert.equal(existsSync(join(root, 'files', 'g')), false);
    // Until its last chunk the old file stays, so a replacement needs room beside it.
    assert.equal(
      codeOf(() => store.write('app', 'storage://f', 0, Buffer.alloc(21), true)),
      'E_CAPSULE_QUOTA',
    );
    store.write('app', 'storage://f', 0, Buffer.alloc(20, 1), true);
    assert.equal(store.used, 20);
    assert.deepEqual(readFileSync(join(root, 'files', 'f')), Buffer.alloc(20, 1));
    assert.equal(new FileStore(root).used, 20, 'usage is recounted from disk at start');
  });
});
