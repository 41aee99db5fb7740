import type { BoardLog } from '../board/board.js';

/** A logger that drops everything, for tests that assert on the audit sink instead. */
export const silentLog: BoardLog = { debug() {}, info() {}, warn() {}, error() {} };
