import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ElastosError } from '../errors/index.js';
import { inScope, normaliseResource } from './resource.js';
import { decodeToken } from './token-codec.js';

/** Only a coded rejection may escape a parser of attacker input. */
function codedOrValue<T>(fn: () => T, codes: string[]): T | undefined {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof ElastosError, `threw a non-ElastosError: ${String(e)}`);
    assert.ok(codes.includes(e.code), `unexpected code ${e.code}`);
    return undefined;
  }
}

const segmentChars = fc.constantFrom(
  'a',
  'b',
  '.',
  '%',
  '2',
  'e',
  'E',
  'f',
  'F',
  '/',
  '\\',
  '-',
  ' ',
  'é',
  '\u0000',
  '?',
);
const uriLike = fc
  .tuple(
    fc.constantFrom('storage://', 'net://', 'Storage://', 'storage:/', ''),
    fc.array(segmentChars, { maxLength: 40 }),
  )
  .map(([s, cs]) => s + cs.join(''));

describe('resource normaliser (properties)', () => {
  it('never throws anything but E_RESOURCE_INVALID, on any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), uriLike, fc.anything()), (input) => {
        codedOrValue(() => normaliseResource(input), ['E_RESOURCE_INVALID']);
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent and its output has no dot, empty or escaped segment', () => {
    fc.assert(
      fc.property(uriLike, (input) => {
        const out = codedOrValue(() => normaliseResource(input), ['E_RESOURCE_INVALID']);
        if (out === undefined) return;
        assert.equal(normaliseResource(out), out);
        const path = out.slice(out.indexOf('://') + 3);
        const segs = path.split('/');
        if (path.endsWith('/')) segs.pop();
        for (const seg of path === '' ? [] : segs) {
          assert.ok(seg !== '' && seg !== '.' && seg !== '..' && !seg.includes('%'), out);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a prefix scope never covers a sibling that shares its text prefix', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z-]{1,8}$/), (dir, tail) => {
        assert.equal(inScope(`storage://${dir}/`, `storage://${dir}${tail}/x`), false);
        assert.equal(inScope(`storage://${dir}/`, `storage://${dir}/${tail}`), true);
      }),
    );
  });
});

describe('token decoder (properties)', () => {
  const codes = ['E_TOKEN_MALFORMED', 'E_TOKEN_VERSION', 'E_TOKEN_TOO_LARGE'];

  it('never throws anything but a coded rejection on random text or bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('base64url')),
          fc.anything(),
        ),
        (input) => {
          codedOrValue(() => decodeToken(input), codes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but a coded rejection on mutated valid tokens', async () => {
    const { readFileSync } = await import('node:fs');
    const v = JSON.parse(readFileSync(new URL('../../../spec/token-vectors.json', import.meta.url), 'utf8')) as {
      valid: Array<{ token: string }>;
    };
    const bytes = v.valid.map((t) => Buffer.from(t.token, 'base64url'));
    fc.assert(
      fc.property(fc.nat(2), fc.nat(400), fc.nat(255), fc.boolean(), (which, at, value, cut) => {
        const b = Buffer.from(bytes[which] as Buffer);
        const i = at % b.length;
        if (!cut) b.writeUInt8(value, i);
        const mutated = cut ? b.subarray(0, i) : b;
        codedOrValue(() => decodeToken(mutated.toString('base64url')), codes);
      }),
      { numRuns: 3000 },
    );
  });
});
