import assert from 'node:assert/strict';
import type { DecisionRequest } from '@elastos/protocol/ipc/decision';
import { PresenceDesk } from './presence-desk.js';

const req = (capsule: string): DecisionRequest => ({
  requestId: `r-${capsule}`,
  capsule,
  audience: 'storage',
  resource: `storage://${capsule}/x`,
  action: 'delete',
});

describe('presence desk: one press answers the one request shown, inside its window', () => {
  let clock = 1_000_000;
  let desk: PresenceDesk;
  beforeEach(() => {
    clock = 1_000_000;
    desk = new PresenceDesk(10_000, () => clock);
  });
  afterEach(() => desk.close());

  it('shows requests in order and answers only a press that began after the showing and ended in the window', () => {
    assert.deepEqual(desk.press({ at: clock, durationMs: 2000 }), { refused: 'no request is shown' });
    desk.add('t1', req('thief'));
    clock += 1000;
    desk.add('t2', req('notes'));
    assert.equal(desk.target()?.ticket, 't1', 'the first request is shown; a later one never displaces it');
    assert.equal(desk.target()?.closesAt, 1_010_000);
    assert.match(String((desk.press({ at: clock, durationMs: 3000 }) as { refused: string }).refused), /began before/);
    assert.match(String((desk.press({ at: 1_010_001, durationMs: 2000 }) as { refused: string }).refused), /closed/);
    clock = 1_005_000;
    assert.deepEqual(desk.press({ at: clock, durationMs: 2000 }), { ticket: 't1', request: req('thief'), code: 1 });
    assert.equal(desk.target()?.ticket, 't2');
    assert.equal(desk.target()?.shownAt, clock, "the next request's window opens now");
    assert.match(
      String((desk.press({ at: clock + 10, durationMs: 2000 }) as { refused: string }).refused),
      /began before/,
      'the same press cannot answer the next request',
    );
  });

  it('a request answered elsewhere leaves the line; an unpressed window sends its request to the back', async () => {
    const quick = new PresenceDesk(30);
    try {
      quick.add('a', req('a'));
      quick.add('b', req('b'));
      quick.add('c', req('c'));
      quick.remove('b');
      assert.equal(quick.target()?.ticket, 'a');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(quick.target()?.ticket, 'c', 'a window closed: the next request is shown');
      quick.remove('c');
      assert.equal(quick.target()?.ticket, 'a', 'the unpressed one comes round again with a new window');
      quick.remove('a');
      assert.equal(quick.target(), undefined);
    } finally {
      quick.close();
    }
  });

  it('names the request shown by a code the LED blinks; consecutive requests never share one (issue 19 item 5)', () => {
    const seen: Array<{ ticket: string; code: number } | undefined> = [];
    desk.onShow((t) => seen.push(t && { ticket: t.ticket, code: t.code }));
    for (let i = 0; i < 12; i++) desk.add(`t${i}`, req(`c${i}`));
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const shown = desk.target();
      assert.ok(shown && shown.code >= 1 && shown.code <= 9, 'a code the LED can blink');
      codes.push(shown.code);
      clock += 10;
      const verdict = desk.press({ at: clock, durationMs: 5 });
      assert.deepEqual(
        verdict,
        { ticket: shown.ticket, request: shown.request, code: shown.code },
        'the press names it',
      );
    }
    for (let i = 1; i < codes.length; i++) assert.notEqual(codes[i], codes[i - 1]);
    assert.equal(seen.at(-1), undefined, 'the LED is told when nothing is shown');
    assert.deepEqual(
      seen.slice(0, 3).map((s) => s?.ticket),
      [undefined, 't0', 't1'],
      'the watcher hears what is shown now, then each newly shown request',
    );
  });
});
