import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inScope } from '@elastos/protocol/tokens/resource';
import fc from 'fast-check';
import type { DecisionRequest, Verdict } from './policy.js';
import { type Rule, Rules } from './rules.js';
import { compilePattern, contains, overlaps, scopeOf } from './scope.js';
import { ShellPolicy } from './shell-policy.js';

interface Vectors {
  patterns: Array<{ pattern: string; scope: string; overlaps: boolean; contains: boolean }>;
  rules: Rule[];
  decisions: Array<{
    why: string;
    capsule: string;
    resource: string;
    action: string;
    verdict: Verdict;
    default?: Verdict;
  }>;
}
const vectors = JSON.parse(readFileSync(new URL('../spec/matching-vectors.json', import.meta.url), 'utf8')) as Vectors;

const SEVERITY: Record<Verdict, number> = { allow: 0, 'allow-log': 1, ask: 2, deny: 3 };

const request = (capsule: string, resource: string, action: string): DecisionRequest => ({
  requestId: 'r',
  capsule,
  audience: 'storage',
  resource,
  action,
});

async function verdictOf(rules: Rules, r: DecisionRequest, dflt: Verdict): Promise<Verdict> {
  const policy = new ShellPolicy({ rules, deciders: [], defaultVerdict: dflt }, () => undefined);
  return (await policy.decide(r)).decision as Verdict;
}

/** An independent oracle for one exact resource: the first rule whose glob (as a regex) matches. */
function oracle(rules: Rule[], capsule: string, resource: string, action: string, dflt: Verdict): Verdict {
  const re = (glob: string) =>
    new RegExp(
      `^${glob
        .split('**')
        .map((run) =>
          run
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^/]+'),
        )
        .join('.*')}$`,
    );
  const hit = rules.find(
    (r) => re(r.capsule).test(capsule) && re(r.action).test(action) && re(r.resource).test(resource),
  );
  return hit?.decision ?? dflt;
}

/** Every canonical resource of three segment names up to depth 3, exact and prefix. */
const UNIVERSE = (() => {
  const names = ['a', 'b', 'ab'];
  const out = ['storage://'];
  let level = [''];
  for (let depth = 0; depth < 3; depth++) {
    level = level.flatMap((p) => names.map((n) => `${p}${n}`));
    for (const p of level) out.push(`storage://${p}`, `storage://${p}/`);
    level = level.map((p) => `${p}/`);
  }
  return out;
})();

const segment = fc.constantFrom('a', 'b', 'ab', '*', 'a*', '*b', '**');
const pattern = fc
  .array(segment, { minLength: 0, maxLength: 3 })
  .chain((segs) => fc.constantFrom(`storage://${segs.join('/')}`, `storage://${segs.join('/')}/**`, '**'));
const rule = fc.record({
  capsule: fc.constantFrom('*', 'app', 'other'),
  resource: pattern,
  action: fc.constantFrom('*', 'read', 'list'),
  decision: fc.constantFrom<Verdict>('allow', 'allow-log', 'ask', 'deny'),
});
const scope = fc.constantFrom(...UNIVERSE);

describe('shell matching: scopes as sets (capsules/shell/spec/matching-vectors.json)', () => {
  it('pattern vectors: overlap and containment', () => {
    for (const v of vectors.patterns) {
      const p = compilePattern(v.pattern);
      assert.equal(overlaps(p, v.scope), v.overlaps, `${v.pattern} overlaps ${v.scope}`);
      assert.equal(contains(p, v.scope), v.contains, `${v.pattern} contains ${v.scope}`);
    }
  });

  it('decision vectors: the README table', async () => {
    const rules = new Rules(vectors.rules);
    for (const v of vectors.decisions) {
      const got = await verdictOf(rules, request(v.capsule, v.resource, v.action), v.default ?? 'allow');
      assert.equal(got, v.verdict, `${v.capsule} ${v.action} ${v.resource}: ${v.why}`);
    }
  });

  it('property: overlap is never missed and containment never overclaims (against every resource)', () => {
    fc.assert(
      fc.property(pattern, scope, (pat, s) => {
        const p = compilePattern(pat);
        const re = new RegExp(
          `^${pat
            .split('**')
            .map((r) => r.split('*').join('[^/]+'))
            .join('.*')}$`,
        );
        const members = UNIVERSE.filter((u) => inScope(s, u));
        if (members.some((u) => re.test(u))) assert.ok(overlaps(p, s), `${pat} overlaps ${s}`);
        if (contains(p, s))
          assert.ok(
            members.every((u) => re.test(u)),
            `${pat} contains ${s}`,
          );
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a scope is never answered more leniently than any resource in it (allowed never overlaps denied)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rule, { maxLength: 6 }),
        scope,
        fc.constantFrom('read', 'list'),
        fc.constantFrom<Verdict>('allow', 'deny'),
        async (list, resource, action, dflt) => {
          const rules = new Rules(list);
          const got = await verdictOf(rules, request('app', resource, action), dflt);
          const wide = scopeOf(resource, action);
          for (const u of UNIVERSE.filter((m) => inScope(wide, m))) {
            const one = oracle(list, 'app', u, action, dflt);
            assert.ok(
              SEVERITY[got] >= SEVERITY[one],
              `${action} ${resource} -> ${got}, but ${u} alone -> ${one}: ${JSON.stringify(list)}`,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
