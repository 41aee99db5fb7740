import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CAPSULE_LINKS } from '@elastos/protocol/capsules/lan-range';
import { requireFeature } from '@elastos/testkit';
import { netTools } from './capsule-net.js';
import {
  BLOCKED_V4,
  CAPSULE_NET,
  lanCloseScript,
  lanOpenScript,
  noRouterScript,
  policyResetScript,
  policyScript,
  slotAddresses,
} from './net-policy.js';

/** 1.2.3.4 as a number. */
const n = (a: string) => a.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
const inRange = (addr: string, cidr: string) => {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(addr) / size) === Math.floor(n(base) / size);
};

describe('private network: the egress policy (net-policy.ts)', () => {
  it('gives neighbouring uids distinct /30s inside 10.231.0.0/16', () => {
    const seen = new Set<string>();
    for (let uid = 1_900_000_000; uid < 1_900_000_000 + 300; uid++) {
      const { gateway, address } = slotAddresses(uid);
      assert.equal(n(address) - n(gateway), 1);
      assert.equal(n(gateway) % 4, 1, 'the gateway is the first host of its /30');
      assert.ok(inRange(address, '10.231.0.0/16'));
      assert.ok(!seen.has(address), address);
      seen.add(address);
    }
  });

  it('blocks loopback, link-local, every private LAN range and multicast; not a public address', () => {
    for (const a of [
      '127.0.0.1',
      '169.254.169.254',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '100.100.1.1',
      '224.0.0.251',
    ])
      assert.ok(
        BLOCKED_V4.some((r) => inRange(a, r)),
        `${a} is blocked`,
      );
    for (const a of ['203.0.113.2', '1.1.1.1', '8.8.8.8'])
      assert.ok(!BLOCKED_V4.some((r) => inRange(a, r)), `${a} is not`);
  });

  it("jumps to a capsule's LAN chain before the blocked ranges, never toward another capsule", () => {
    const forward = policyScript()
      .split('\n')
      .filter((l) => l.startsWith('add rule inet elastos forward'));
    const jump = forward.findIndex((l) => l.includes('vmap @lanv'));
    assert.ok(jump >= 0 && jump < forward.findIndex((l) => l.includes('@blocked4')));
    assert.match(forward[jump] ?? '', /oifname != "elc\*"/);
    assert.match(lanOpenScript('elc7', ['192.168.7.0/24']), /lan_elc7 ip daddr \{ 192\.168\.7\.0\/24 \} accept/);
    assert.equal(CAPSULE_LINKS, `${CAPSULE_NET.prefix.join('.')}.0.0/16`, 'the manifest check knows the capsule links');
  });

  it('is valid nftables (nft --check against this kernel)', function () {
    const tools = netTools();
    requireFeature(this, tools !== undefined, 'nftables');
    const lan = lanOpenScript('elc7', ['192.168.7.0/24', '10.1.0.0/16']) + lanCloseScript('elc7');
    for (const script of [policyScript(), policyResetScript() + policyScript() + lan, noRouterScript()])
      execFileSync(tools?.nft ?? 'nft', ['--check', '-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
  });
});
