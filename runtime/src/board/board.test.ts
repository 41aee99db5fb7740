import assert from 'node:assert/strict';
import { hasCode } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { startBoard } from './board.js';

describe('startBoard', () => {
  const deps = {
    serial: { path: '/dev/null', baudRate: 115200, watchdogMs: 0, clockSyncMarker: '', presenceWindowMs: 30000 },
    log: createLogger({ name: 'board', level: 'silent' }),
  };

  it('fails closed with E_SETUP_REQUIRED when the board module is missing or is not one', async () => {
    await assert.rejects(startBoard(deps, '@elastos/no-such-board'), (e: Error) => hasCode(e, 'E_SETUP_REQUIRED'));
    await assert.rejects(startBoard(deps, 'node:os'), (e: Error) => hasCode(e, 'E_SETUP_REQUIRED'));
  });
});
