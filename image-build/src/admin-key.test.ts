import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCode } from '@elastos/runtime';
import { makeTempDir } from '@elastos/testkit';
import { adminKeyLine, parseSshPublicKey, readAdminKey } from './admin-key.js';

describe('image admin key (--admin-key FILE.pub)', () => {
  const tmp = makeTempDir('elastos-adminkey-');
  const key = join(tmp.path, 'id');
  before(() => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@laptop', '-f', key]));
  after(() => tmp.remove());

  it('accepts a public key made by ssh-keygen and restricts it to the wrapper', () => {
    const parsed = readAdminKey(`${key}.pub`);
    assert.equal(parsed, readFileSync(`${key}.pub`, 'utf8').trim());
    assert.match(
      adminKeyLine(parsed),
      /^restrict,command="\/usr\/lib\/elastos\/elastos-ssh-wrapper" ssh-ed25519 \S+ alice@laptop\n$/,
    );
  });

  const refused: Array<[string, () => string]> = [
    ['the private key', () => readFileSync(key, 'utf8')],
    ['two keys', () => `${readFileSync(`${key}.pub`, 'utf8')}${readFileSync(`${key}.pub`, 'utf8')}`],
    ['an empty file', () => ''],
    ['random text', () => 'hello world\n'],
    ['a blob of another key type', () => readFileSync(`${key}.pub`, 'utf8').replace('ssh-ed25519', 'ssh-rsa')],
    ['options before the key', () => `command="/bin/sh" ${readFileSync(`${key}.pub`, 'utf8')}`],
    ['a truncated blob', () => readFileSync(`${key}.pub`, 'utf8').replace(/ (\S{20})\S+ /, ' $1 ')],
  ];
  for (const [what, text] of refused) {
    it(`refuses ${what} with E_IMAGE_ADMIN_KEY`, () => {
      assert.throws(
        () => parseSshPublicKey(text(), 'k.pub'),
        (err) => hasCode(err, 'E_IMAGE_ADMIN_KEY'),
      );
    });
  }

  it('`npm run image -- --admin-key` with a non-key file fails with one coded line before building', () => {
    const bad = join(tmp.path, 'not-a-key.pub');
    writeFileSync(bad, 'not a key\n');
    const main = new URL('./main.js', import.meta.url).pathname;
    const r = (() => {
      try {
        execFileSync(process.execPath, [main, '--arch', 'arm64', '--admin-key', bad], {
          encoding: 'utf8',
          stdio: 'pipe',
        });
        return { status: 0, stderr: '' };
      } catch (err) {
        return err as { status: number; stderr: string };
      }
    })();
    assert.equal(r.status, 65);
    assert.match(r.stderr, /^error E_IMAGE_ADMIN_KEY: .*not-a-key\.pub: not an SSH public key.*\n$/);
  });
});
