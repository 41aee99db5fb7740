import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { hasCode } from '../errors/index.js';
import { addTrustedKey, loadTrustStore, parseKeyFile, publicKeyEntry, removeTrustedKey } from './trust-store.js';

// RFC 8032 §7.1 test 1 public key.
const PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

describe('trust store (spec/capsule-package.md §6)', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => dir.remove());

  it('keeps one deterministic <keyId>.pub file per key and nothing else', () => {
    const key = publicKeyEntry('Example Publisher', PUB);
    assert.equal(key.keyId, '21fe31dfa154a261');
    const path = addTrustedKey(dir.path, key);
    assert.deepEqual(readdirSync(dir.path), ['21fe31dfa154a261.pub']);
    assert.equal(
      readFileSync(path, 'utf8'),
      `{"format":"elastos-publisher-key/1","name":"Example Publisher","publicKey":"${PUB}"}\n`,
    );
    const store = loadTrustStore(dir.path);
    assert.deepEqual([...store.keys.keys()], ['21fe31dfa154a261']);
    removeTrustedKey(dir.path, key.keyId);
    assert.equal(loadTrustStore(dir.path).keys.size, 0);
    assert.throws(
      () => removeTrustedKey(dir.path, key.keyId),
      (e) => hasCode(e, 'E_NOT_FOUND'),
    );
  });

  it('never trusts a malformed file or one whose name is not its key id', () => {
    writeFileSync(join(dir.path, '0000000000000000.pub'), JSON.stringify({ name: 'liar', publicKey: PUB }));
    writeFileSync(join(dir.path, 'junk.pub'), 'not json');
    writeFileSync(join(dir.path, 'README'), 'hello');
    const store = loadTrustStore(dir.path);
    assert.equal(store.keys.size, 0);
    assert.deepEqual(
      store.rejected.map((r) => r.file),
      ['0000000000000000.pub', 'README', 'junk.pub'],
    );
    assert.equal(loadTrustStore(join(dir.path, 'missing')).keys.size, 0);
  });

  it('refuses bad key files with E_TRUST_KEY_INVALID', () => {
    for (const text of ['', '[]', '{"publicKey":"00"}', `{"publicKey":"${PUB.toUpperCase()}"}`, 'x'.repeat(5000)]) {
      assert.throws(
        () => parseKeyFile(text),
        (e) => hasCode(e, 'E_TRUST_KEY_INVALID'),
        text.slice(0, 20),
      );
    }
    assert.throws(
      () => publicKeyEntry('bell\u0007', PUB),
      (e) => hasCode(e, 'E_TRUST_KEY_INVALID'),
    );
  });
});
