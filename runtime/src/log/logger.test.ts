import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { logFormat } from './logger.js';

describe('log format: short lines on a TTY, JSON otherwise or on request', () => {
  it('picks the flag, then ELASTOS_LOG_FORMAT, then the TTY', () => {
    assert.equal(logFormat(undefined, {}, true), 'pretty');
    assert.equal(logFormat(undefined, {}, false), 'json');
    assert.equal(logFormat(undefined, { ELASTOS_LOG_FORMAT: 'json' }, true), 'json');
    assert.equal(logFormat('pretty', { ELASTOS_LOG_FORMAT: 'json' }, false), 'pretty');
    assert.equal(logFormat(undefined, { ELASTOS_LOG_FORMAT: 'nonsense' }, false), 'json');
  });

  it('writes one JSON object a line when not a TTY, one short line when pretty', () => {
    const script = (pretty: boolean) =>
      `import('${new URL('./logger.js', import.meta.url).href}').then(({ createLogger }) => createLogger({ name: 'x', pretty: ${pretty} }).info({ a: 1 }, 'hello'))`;
    const json = spawnSync(process.execPath, ['-e', script(false)], { encoding: 'utf8' }).stderr.trim();
    assert.deepEqual([JSON.parse(json).msg, JSON.parse(json).a], ['hello', 1]);
    const pretty = spawnSync(process.execPath, ['-e', script(true)], { encoding: 'utf8' }).stderr.trim();
    assert.match(pretty, /^\[\d\d:\d\d:\d\d\] INFO \(x\): hello \{"a":1\}$/);
  });
});
