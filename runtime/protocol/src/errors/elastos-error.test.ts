import assert from 'node:assert/strict';
import { ERROR_CODES } from './codes.js';
import { asElastosError, ElastosError } from './elastos-error.js';

describe('ElastosError', () => {
  it('prints one line as the CLI does and carries the exit status of its code', () => {
    const e = new ElastosError('E_TOKEN_EXPIRED', 'token abc expired at 12:00');
    assert.equal(e.toLine(), 'error E_TOKEN_EXPIRED: token abc expired at 12:00');
    assert.equal(e.exitCode, ERROR_CODES.E_TOKEN_EXPIRED.exit);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { code: 'E_TOKEN_EXPIRED', message: 'token abc expired at 12:00' });
  });

  it('defaults the message to the table summary', () => {
    assert.equal(new ElastosError('E_STORE_CLOSED').message, ERROR_CODES.E_STORE_CLOSED.summary);
  });

  it('wraps foreign errors as E_INTERNAL and keeps known codes', () => {
    assert.equal(asElastosError(new Error('boom')).code, 'E_INTERNAL');
    assert.equal(asElastosError('boom').message, 'boom');
    const coded = Object.assign(new Error('x'), { code: 'E_TIMEOUT' });
    assert.equal(asElastosError(coded).code, 'E_TIMEOUT');
  });

  it('keeps every code UPPER_SNAKE with an E_ prefix, a summary and a sysexits-range status', () => {
    for (const [code, { exit, summary }] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^E_[A-Z0-9_]+$/);
      assert.ok(summary.length > 0, code);
      assert.ok(exit >= 64 && exit <= 78, `${code} exit ${exit}`);
    }
  });
});
