import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hasCode } from '@elastos/runtime';
import { checkHost } from './prereq.js';

describe('image build prerequisites', () => {
  it('off Debian: E_IMAGE_PREREQ naming what is missing', () => {
    assert.throws(
      () => checkHost({ debianMarker: '/nonexistent/debian_version', aptGet: '/usr/bin/apt-get', uid: 0 }),
      (err) => hasCode(err, 'E_IMAGE_PREREQ') && /not a Debian system/.test((err as Error).message),
    );
  });

  it('not root: E_IMAGE_PREREQ', () => {
    assert.throws(
      () => checkHost({ debianMarker: '/etc/debian_version', aptGet: '/usr/bin/apt-get', uid: 1000 }),
      (err) => hasCode(err, 'E_IMAGE_PREREQ') && /not root/.test((err as Error).message),
    );
  });

  it('`npm run image` as an unprivileged user prints one coded line and exits 69', () => {
    const main = new URL('./main.js', import.meta.url).pathname;
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, main, '--arch', 'amd64'],
      {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      },
    );
    assert.equal(r.status, 69, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error E_IMAGE_PREREQ: not root: [^\n]*\n$/);
  });
});
