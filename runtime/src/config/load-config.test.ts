import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { hasCode } from '../errors/index.js';
import { loadConfig, parseConfig } from './load-config.js';

describe('config', () => {
  const minimal = { profile: 'dev', runDir: 'run', stateDir: 'state' };

  it('fills defaults and resolves relative paths against the config folder', () => {
    const c = parseConfig(minimal, '/etc/elastos');
    assert.equal(c.runDir, '/etc/elastos/run');
    assert.equal(c.stateDir, '/etc/elastos/state');
    assert.equal(c.trustDir, '/etc/elastos/trust');
    assert.equal(c.admin.socket, '/etc/elastos/run/admin.sock');
    assert.equal(c.tpm.tcti, 'device:/dev/tpmrm0');
    assert.equal(c.tpm.pcr, 23);
    assert.equal(c.logLevel, 'info');
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['a missing required field', { profile: 'dev', runDir: 'r' }, /^stateDir: is required$/],
    ['an unknown profile', { ...minimal, profile: 'yolo' }, /^profile: must be one of production, dev$/],
    ['an out-of-range PCR', { ...minimal, tpm: { pcr: 24 } }, /^tpm\.pcr: must be <= 23$/],
    ['an unknown field', { ...minimal, tmp: { tcti: 'x' } }, /^tmp: unknown field$/],
    ['a nested unknown field', { ...minimal, tpm: { tctii: 'x' } }, /^tpm\.tctii: unknown field$/],
    ['a wrong type', { ...minimal, serial: { baudRate: 'fast' } }, /^serial\.baudRate: must be integer$/],
    ['a non-object', 42, /^\(root\): must be object$/],
    ['a cmd: TCTI (it runs a program)', { ...minimal, tpm: { tcti: 'cmd:/usr/bin/id' } }, /^tpm\.tcti: must match/],
  ];
  for (const [what, raw, message] of bad) {
    it(`refuses ${what} with one line naming the field`, () => {
      assert.throws(
        () => parseConfig(raw, '/'),
        (err: Error) => hasCode(err, 'E_CONFIG_INVALID') && message.test(err.message),
      );
    });
  }

  it('refuses a missing file and a file that is not JSON, each with its code', () => {
    const dir = makeTempDir();
    try {
      assert.throws(
        () => loadConfig(join(dir.path, 'nope.json')),
        (e) => hasCode(e, 'E_CONFIG_MISSING'),
      );
      const path = join(dir.path, 'config.json');
      writeFileSync(path, '{"profile": "dev",');
      assert.throws(
        () => loadConfig(path),
        (e) => hasCode(e, 'E_CONFIG_PARSE'),
      );
      writeFileSync(path, JSON.stringify(minimal));
      assert.equal(loadConfig(path).stateDir, join(dir.path, 'state'));
    } finally {
      dir.remove();
    }
  });
});
