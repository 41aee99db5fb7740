import assert from 'node:assert/strict';
import { CrashTracker } from './crash-policy.js';

describe('CrashTracker', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 500, crashLimit: 4, crashWindowMs: 10_000 };

  it('doubles the delay up to the cap, then gives up past the limit', () => {
    const t = new CrashTracker(policy);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => t.onCrash(i)),
      [100, 200, 400, 500, null],
    );
  });

  it('forgets crashes older than the window', () => {
    const t = new CrashTracker(policy);
    for (let i = 0; i < 4; i++) t.onCrash(i);
    assert.equal(t.onCrash(20_000), 100);
    assert.equal(t.recentCrashes, 1);
  });
});
