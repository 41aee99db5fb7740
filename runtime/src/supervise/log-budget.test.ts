import assert from 'node:assert/strict';
import { LogBudget } from './log-budget.js';

describe('LogBudget (capsule output into the runtime log)', () => {
  it('passes a few lines a second, drops the flood and says how much it dropped', () => {
    const b = new LogBudget(3, 10);
    const first = [1, 2, 3, 4, 5].flatMap((i) => b.admit(`line ${i}`, 100));
    assert.deepEqual(first, ['line 1', 'line 2', 'line 3']);
    assert.deepEqual(b.admit('later', 1200), ['[2 lines of capsule output dropped]', 'later']);
    assert.deepEqual(b.admit('x'.repeat(50), 1300), [`${'x'.repeat(10)}…`]);
  });
});
