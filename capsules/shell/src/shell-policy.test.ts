import assert from 'node:assert/strict';
import { hasCode } from '@elastos/protocol/errors';
import { LearningAgentDecider } from './agent-decider.js';
import type { Decision, DecisionRequest } from './policy.js';
import { Rules } from './rules.js';
import { ShellPolicy } from './shell-policy.js';

const req = (over: Partial<DecisionRequest> = {}): DecisionRequest => ({
  requestId: 'r1',
  capsule: 'photo-editor',
  audience: 'storage',
  resource: 'storage://photos/vacation.jpg',
  action: 'read',
  ...over,
});

const RULES = Rules.parse(
  JSON.stringify({
    rules: [
      { capsule: '*', resource: 'storage://secrets/**', action: '*', decision: 'deny', note: 'never secrets' },
      {
        capsule: 'photo-editor',
        resource: 'storage://photos/**',
        action: 'read',
        decision: 'allow',
        maxTtlMs: 600_000,
        maxUses: 50,
      },
      { capsule: 'notes', audience: 'storage', resource: 'storage://notes/*', action: 'write', decision: 'ask' },
      { capsule: 'agent', resource: '**', action: 'invoke:*', decision: 'allow-log', maxTtlMs: 60_000 },
    ],
  }),
);

describe('shell policy', () => {
  let resolved: Array<[string, Decision]>;
  const policy = (rules?: Rules) =>
    new ShellPolicy({ rules, deciders: [new LearningAgentDecider()] }, (t, d) => resolved.push([t, d]));
  beforeEach(() => {
    resolved = [];
  });

  it('auto-approves by default (what PC2 does today), with the requested lifetime and uses', async () => {
    const d = await policy().decide(req({ ttlMs: 5000, maxUses: 2 }));
    assert.deepEqual(d, { decision: 'allow', ttlMs: 5000, maxUses: 2, reason: 'default: auto-approve' });
    assert.deepEqual(await policy().decide(req()), {
      decision: 'allow',
      ttlMs: 3600_000,
      maxUses: 0,
      reason: 'default: auto-approve',
    });
  });

  it('applies the first matching rule: deny, allow with the longest lifetime and most uses, allow-and-log', async () => {
    const p = policy(RULES);
    assert.deepEqual(await p.decide(req({ resource: 'storage://secrets/key' })), {
      decision: 'deny',
      reason: 'never secrets',
    });
    assert.deepEqual(await p.decide(req({ ttlMs: 86_400_000, maxUses: 1000 })), {
      decision: 'allow',
      ttlMs: 600_000,
      maxUses: 50,
      reason: 'rule 2',
    });
    const logged = await p.decide(
      req({ capsule: 'agent', resource: 'sysinfo://', action: 'invoke:cpu', audience: 'sysinfo' }),
    );
    assert.equal(logged.decision, 'allow-log');
    assert.equal(logged.ttlMs, 60_000);
    // photos/ never matches photos-private/: the rule's ** starts after the slash.
    assert.equal((await p.decide(req({ resource: 'storage://photos-private/x', action: 'delete' }))).decision, 'ask');
  });

  it('queues an ask; approve resolves it with its grant, deny refuses it, unknown tickets are coded', async () => {
    const p = policy(RULES);
    const ask = await p.decide(req({ capsule: 'notes', resource: 'storage://notes/todo.txt', action: 'write' }));
    assert.equal(ask.decision, 'ask');
    assert.deepEqual(
      p.requests().map((r) => r.ticket),
      [ask.ticket],
    );
    p.asks.approve(ask.ticket as string, 'admin:0');
    assert.deepEqual(resolved, [[ask.ticket, { decision: 'allow', ttlMs: 3600_000, maxUses: 0, reason: 'rule 3' }]]);
    const again = await p.decide(req({ capsule: 'notes', resource: 'storage://notes/b.txt', action: 'write' }));
    p.asks.deny(again.ticket as string, 'admin:0');
    assert.equal(resolved[1]?.[1].decision, 'deny');
    assert.throws(
      () => p.asks.approve('nope', 'admin:0'),
      (e) => hasCode(e, 'E_REQUEST_NOT_FOUND'),
    );
    assert.deepEqual(p.requests(), []);
  });

  it('a long press approves the one request the runtime bound it to, not the oldest', async () => {
    const p = policy();
    const a = await p.decide(req({ action: 'delete' }));
    const b = await p.decide(req({ action: 'net', audience: 'net', resource: 'net://example.org' }));
    assert.equal(p.asks.presence(b.ticket as string).decision, 'allow');
    assert.equal(resolved[0]?.[0], b.ticket);
    assert.deepEqual(
      p.requests().map((r) => r.ticket),
      [a.ticket],
    );
    assert.throws(
      () => p.asks.presence(b.ticket as string),
      (e) => hasCode(e, 'E_REQUEST_NOT_FOUND'),
      'one press, one request',
    );
  });

  it('the example agent decider asks about risky actions and learns from the admin, for that exact request only', async () => {
    const p = policy();
    const first = await p.decide(req({ action: 'delete' }));
    assert.equal(first.decision, 'ask');
    p.asks.approve(first.ticket as string, 'admin:0');
    const same = await p.decide(req({ action: 'delete' }));
    assert.equal(same.decision, 'allow');
    assert.match(same.reason ?? '', /learning-agent/);
    // One approval of one file never stretches to its folder, its siblings or another action.
    for (const other of [
      req({ action: 'delete', resource: 'storage://photos/other.jpg' }),
      req({ action: 'delete', resource: 'storage://photos/' }),
      req({ action: 'write' }),
    ])
      assert.equal((await p.decide(other)).decision, 'ask', `${other.action} ${other.resource}`);
    const elsewhere = await p.decide(req({ action: 'delete', resource: 'storage://docs/cv.pdf' }));
    p.asks.deny(elsewhere.ticket as string, 'admin:0');
    assert.equal((await p.decide(req({ action: 'delete', resource: 'storage://docs/cv.pdf' }))).decision, 'deny');
    assert.equal((await p.decide(req({ action: 'delete', resource: 'storage://docs/x.pdf' }))).decision, 'ask');
  });

  it('refuses a bad rules file with a code that names the field', () => {
    assert.throws(
      () => Rules.parse('{'),
      (e) => hasCode(e, 'E_CONFIG_PARSE'),
    );
    assert.throws(
      () => Rules.parse(JSON.stringify({ rules: [{ capsule: '*', resource: '*', action: '*', decision: 'maybe' }] })),
      (e) => hasCode(e, 'E_CONFIG_INVALID') && /rules\/0\/decision/.test((e as Error).message),
    );
    assert.throws(
      () => Rules.load('/nonexistent/rules.json'),
      (e) => hasCode(e, 'E_CONFIG_MISSING'),
    );
  });
  it('a LAN range (lan://CIDR, action net, asked by the runtime at a start): granted by a rule, else asked', async () => {
    const lan = req({ capsule: 'printer', audience: 'runtime', resource: 'lan://192.168.7.0/24', action: 'net' });
    const rules = Rules.parse(
      JSON.stringify({
        rules: [
          { capsule: 'printer', resource: 'lan://192.168.7.0/24', action: 'net', decision: 'allow' },
          { capsule: '*', resource: 'lan://**', action: 'net', decision: 'deny', note: 'no LAN' },
        ],
      }),
    );
    assert.equal((await policy(rules).decide(lan)).decision, 'allow');
    const other = await policy(rules).decide({ ...lan, resource: 'lan://10.0.0.0/24' });
    assert.deepEqual(other, { decision: 'deny', reason: 'no LAN' });
    // No rule: the stock shell's learning agent holds `net` risky; the runtime takes an ask as "not granted".
    assert.equal((await policy().decide(lan)).decision, 'ask');
  });
});
