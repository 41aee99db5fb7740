import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ElastosError, hasCode } from '@elastos/protocol/errors';
import fc from 'fast-check';
import type { BootEvent } from './event-log.js';
import { replay } from './event-log.js';
import { checkRelease, parseReleaseManifest, type ReleaseManifest } from './release.js';

const d = (s: string) => createHash('sha256').update(s).digest('hex');
const RUNTIME = [
  { type: 'runtime.code', name: '@elastos/runtime', digest: d('code') },
  { type: 'runtime.exec', name: 'node v20.20.2', digest: d('exec') },
  { type: 'runtime.config', name: 'effective config', digest: d('config') },
  { type: 'trust.store', name: '/etc/elastos/trust', digest: d('trust') },
];
const events = (extra: Array<{ name: string; digest: string; type?: string }> = []): BootEvent[] =>
  [...RUNTIME, ...extra.map((e) => ({ type: 'capsule', ...e }))].map((e, seq) => ({ seq, pcr: 23, ...e }));

const PCR11_A = d('PCR 11 of slot a');
const PCR11_B = d('PCR 11 of slot b');

function manifest(): ReleaseManifest {
  return {
    format: 'elastos-release/1',
    boot: {
      version: '7',
      slots: [
        { slot: 'a', pcr11: PCR11_A },
        { slot: 'b', pcr11: PCR11_B },
      ],
    },
    measuredBoot: { spec: 'runtime/spec/boot.md §2', pcr: 23, runtime: RUNTIME, pcrAfterRuntime: replay(events(), 23) },
    capsules: [{ name: 'shell', version: '0.1.0', id: 'cap1x', digest: d('shell') }],
  };
}
const bytes = (m: unknown) => new TextEncoder().encode(JSON.stringify(m));
/** A release with no boot chain (a dev build): `boot` left out. */
function devManifest(): ReleaseManifest {
  const { boot: _, ...m } = manifest();
  return m;
}

describe('attest verify --expect: an attestation against a release manifest', () => {
  it('accepts the release runtime and a capsule it ships', () => {
    const v = checkRelease(
      { pcr: 23, pcr11: PCR11_A, events: events([{ name: 'shell', digest: d('shell') }]) },
      parseReleaseManifest(bytes(manifest())),
    );
    assert.deepEqual(v.capsules, ['shell']);
    assert.equal(v.pcrAfterRuntime, manifest().measuredBoot.pcrAfterRuntime);
    assert.deepEqual(v.boot, { checked: true, slot: 'a', version: '7', pcr11: PCR11_A });
  });

  it('names the root slot whose PCR 11 the box holds (the other slot after an update)', () => {
    const v = checkRelease({ pcr: 23, pcr11: PCR11_B, events: events() }, manifest());
    assert.deepEqual(v.boot, { checked: true, slot: 'b', version: '7', pcr11: PCR11_B });
  });

  it("refuses another release's boot chain with E_ATTEST_RELEASE, naming both PCR 11s", () => {
    // Same runtime, capsules and PCR 23: only the kernel, initrd, command line or version differ.
    const other = { ...manifest(), boot: { slots: [{ slot: 'a', pcr11: d('release N+1, slot a') }] } };
    const err = (() => {
      try {
        checkRelease({ pcr: 23, pcr11: PCR11_A, events: events() }, parseReleaseManifest(bytes(other)));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ElastosError && err.code === 'E_ATTEST_RELEASE', String(err));
    assert.match(err.message, new RegExp(`box's PCR 11 ${PCR11_A.slice(0, 16)}… is none of the release's`));
    assert.match(err.message, new RegExp(`slot a ${d('release N+1, slot a').slice(0, 16)}…`));
  });

  it('refuses an attestation without PCR 11 against a release that has a boot chain', () => {
    assert.throws(
      () => checkRelease({ pcr: 23, events: events() }, manifest()),
      (err) => hasCode(err, 'E_ATTEST_RELEASE') && /does not quote PCR 11/.test((err as Error).message),
    );
  });

  it('checks no boot chain against a release without one (a dev build), and says so', () => {
    for (const pcr11 of [PCR11_A, undefined]) {
      const v = checkRelease({ pcr: 23, pcr11, events: events() }, parseReleaseManifest(bytes(devManifest())));
      assert.equal(v.boot.checked, false);
      assert.match(v.boot.checked ? '' : v.boot.why, /no boot chain .*not checked/);
    }
  });

  const refused: Array<[string, number, BootEvent[]]> = [
    ['other runtime code', 23, events().map((e) => (e.seq === 0 ? { ...e, digest: d('tampered') } : e))],
    ['another config', 23, events().map((e) => (e.seq === 2 ? { ...e, digest: d('other config') } : e))],
    ['a capsule the release does not ship', 23, events([{ name: 'evil', digest: d('evil') }])],
    ['a shipped name with another digest', 23, events([{ name: 'shell', digest: d('shell v2') }])],
    ['another PCR', 16, events()],
    ['a log that stops early', 23, events().slice(0, 3)],
    ['events out of order', 23, [events()[1], events()[0], ...events().slice(2)] as BootEvent[]],
  ];
  for (const [what, pcr, evs] of refused) {
    it(`refuses ${what} with E_ATTEST_RELEASE`, () => {
      assert.throws(
        () => checkRelease({ pcr, pcr11: PCR11_A, events: evs }, manifest()),
        (err) => hasCode(err, 'E_ATTEST_RELEASE'),
      );
    });
  }

  const malformed: Array<[string, unknown]> = [
    ['not JSON', '{'],
    ['another format', { ...manifest(), format: 'x' }],
    [
      'three runtime events',
      { ...manifest(), measuredBoot: { ...manifest().measuredBoot, runtime: RUNTIME.slice(0, 3) } },
    ],
    ['a bad digest', { ...manifest(), capsules: [{ name: 'shell', digest: 'zz' }] }],
    ['no pcrAfterRuntime', { ...manifest(), measuredBoot: { ...manifest().measuredBoot, pcrAfterRuntime: 1 } }],
    ['null', null],
    ['boot not an object', { ...manifest(), boot: 'a' }],
    ['boot with no slots', { ...manifest(), boot: { slots: [] } }],
    ['a slot without pcr11', { ...manifest(), boot: { slots: [{ slot: 'a' }] } }],
    ['a slot pcr11 in upper case', { ...manifest(), boot: { slots: [{ slot: 'a', pcr11: PCR11_A.toUpperCase() }] } }],
    ['a slot with a bad name', { ...manifest(), boot: { slots: [{ slot: 'a/../b', pcr11: PCR11_A }] } }],
    ['a numeric boot.version', { ...manifest(), boot: { version: 7, slots: [{ slot: 'a', pcr11: PCR11_A }] } }],
    [
      '17 slots',
      { ...manifest(), boot: { slots: Array.from({ length: 17 }, (_, i) => ({ slot: `s${i}`, pcr11: PCR11_A })) } },
    ],
  ];
  for (const [what, m] of malformed) {
    it(`a manifest with ${what} is E_ATTEST_INVALID, never a crash`, () => {
      const b = typeof m === 'string' ? new TextEncoder().encode(m) : bytes(m);
      assert.throws(
        () => parseReleaseManifest(b),
        (err) => hasCode(err, 'E_ATTEST_INVALID'),
      );
    });
  }

  it('never crashes on arbitrary JSON in boot: it parses or refuses with E_ATTEST_INVALID', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (boot, slot) => {
        for (const m of [
          { ...manifest(), boot },
          { ...manifest(), boot: { slots: [slot] } },
        ]) {
          try {
            const parsed = parseReleaseManifest(bytes(m));
            checkRelease({ pcr: 23, pcr11: PCR11_A, events: events() }, parsed);
          } catch (err) {
            if (!hasCode(err, 'E_ATTEST_INVALID') && !hasCode(err, 'E_ATTEST_RELEASE')) return false;
          }
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
});
