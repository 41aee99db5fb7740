import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hasCode } from '@elastos/protocol/errors';
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

function manifest(): ReleaseManifest {
  return {
    format: 'elastos-release/1',
    measuredBoot: { spec: 'runtime/spec/boot.md §2', pcr: 23, runtime: RUNTIME, pcrAfterRuntime: replay(events(), 23) },
    capsules: [{ name: 'shell', version: '0.1.0', id: 'cap1x', digest: d('shell') }],
  };
}
const bytes = (m: unknown) => new TextEncoder().encode(JSON.stringify(m));

describe('attest verify --expect: an attestation against a release manifest', () => {
  it('accepts the release runtime and a capsule it ships', () => {
    const v = checkRelease(
      23,
      events([{ name: 'shell', digest: d('shell') }]),
      parseReleaseManifest(bytes(manifest())),
    );
    assert.deepEqual(v.capsules, ['shell']);
    assert.equal(v.pcrAfterRuntime, manifest().measuredBoot.pcrAfterRuntime);
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
        () => checkRelease(pcr, evs, manifest()),
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
});
