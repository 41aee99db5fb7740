import assert from 'node:assert/strict';
import { CAPSULE_LINKS, lanRangeProblem, lanRangesProblem, MAX_LAN_RANGES, parseCidr } from './lan-range.js';
import { type CapsuleManifest, encodeManifest, lanRangesOf, parseManifest, validateManifest } from './manifest.js';

const manifest: CapsuleManifest = {
  name: 'printer',
  version: '1.0.0',
  publisher: '0123456789abcdef',
  type: 'app',
  entry: 'main.js',
  capabilities: [],
  limits: { memoryMiB: 64, pids: 16, cpuPercent: 50 },
  network: true,
};

const withLan = (lan: unknown) => ({ ...manifest, network: { lan } });

describe('manifest network.lan: LAN ranges a capsule names (lan-range.ts)', () => {
  it('accepts private and link-local CIDRs, canonical, up to the cap', () => {
    for (const r of ['192.168.7.0/24', '10.1.0.0/16', '172.16.0.0/12', '169.254.0.0/16', '192.168.1.20/32'])
      assert.equal(lanRangeProblem(r), undefined, r);
    const m = validateManifest(withLan(['192.168.7.0/24', '10.1.0.0/16']));
    assert.deepEqual(lanRangesOf(m), ['192.168.7.0/24', '10.1.0.0/16']);
    assert.deepEqual(lanRangesOf(validateManifest(manifest)), [], '`true`: the internet only');
    const many = Array.from({ length: MAX_LAN_RANGES }, (_, i) => `192.168.${i}.0/24`);
    assert.deepEqual(lanRangesOf(validateManifest(withLan(many))), many);
  });

  it('round-trips through the canonical bytes', () => {
    const m = validateManifest(withLan(['192.168.7.0/24']));
    assert.deepEqual(parseManifest(encodeManifest(m)), m);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['a public range', ['8.8.8.0/24'], /network\.lan\[0\]: 8\.8\.8\.0\/24 is not inside a private or link-local range/],
    ['everything', ['0.0.0.0/0'], /not inside a private/],
    ['wider than a private range', ['192.0.0.0/8'], /not inside a private/],
    ['the shared (CGNAT) range', ['100.64.0.0/10'], /not inside a private/],
    ['loopback', ['127.0.0.0/8'], /not inside a private/],
    ['host bits set', ['192.168.7.1/24'], /host bits/],
    ['a prefix over 32', ['192.168.7.0/33'], /not an IPv4 CIDR/],
    ['no prefix', ['192.168.7.1'], /not an IPv4 CIDR/],
    ['a leading zero', ['192.168.07.0/24'], /not an IPv4 CIDR/],
    ['an octet over 255', ['192.168.256.0/24'], /not an IPv4 CIDR/],
    ['IPv6', ['fd00::/8'], /not an IPv4 CIDR/],
    ['the capsules’ own links', ['10.231.4.0/24'], /overlaps the capsules' own links/],
    ['a range holding them', ['10.0.0.0/8'], /overlaps the capsules' own links/],
    ['overlapping ranges', ['192.168.7.0/24', '192.168.7.128/25'], /network\.lan\[1\]: .* overlaps 192\.168\.7\.0\/24/],
    [
      'too many',
      Array.from({ length: MAX_LAN_RANGES + 1 }, (_, i) => `192.168.${i}.0/24`),
      /network\.lan: .*more than 8/,
    ],
    ['none', [], /network\.lan: .*fewer than 1/],
    ['a duplicate', ['192.168.7.0/24', '192.168.7.0/24'], /network\.lan: .*duplicate/],
    ['not a string', [42], /network\.lan\.0: must be string/],
    ['a long string', ['192.168.100.100/32 '], /network\.lan\.0: must NOT have more than 18/],
  ];
  for (const [what, lan, message] of bad)
    it(`refuses ${what} with E_CAPSULE_INVALID, in one line`, () => {
      assert.throws(
        () => validateManifest(withLan(lan)),
        (e: Error & { code?: string }) =>
          e.code === 'E_CAPSULE_INVALID' && message.test(e.message) && !e.message.includes('\n'),
      );
    });

  it('refuses an unknown field beside lan, and another type', () => {
    assert.throws(() => validateManifest({ ...manifest, network: { lan: ['192.168.7.0/24'], wan: true } }), {
      code: 'E_CAPSULE_INVALID',
      message: /network: unknown field wan/,
    });
    assert.throws(() => validateManifest({ ...manifest, network: 'yes' }), { code: 'E_CAPSULE_INVALID' });
  });

  it('never throws anything but a reason on odd strings', () => {
    for (const s of ['', '/', '1.2.3.4/', '...', '1.2.3.4/-1', '999999999999.0.0.0/8', '\u0000'])
      assert.equal(typeof lanRangeProblem(s), 'string', JSON.stringify(s));
    assert.equal(lanRangesProblem([], 'lan'), undefined);
    assert.deepEqual(parseCidr(CAPSULE_LINKS), { base: (10 * 256 + 231) * 65536, bits: 16 });
  });
});
