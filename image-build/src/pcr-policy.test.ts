/**
 * The image's signed PCR policy (runtime/spec/boot.md §4.1, README "The signed PCR policy"),
 * without an image build: the dev PCR-signing key, the signed entries (two slots x two phases,
 * PCR 11 and PCR 23), one file per slot on the ESP and the public key on the root, the box's
 * config, and the boot-time script that picks the booted slot's file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@elastos/runtime';
import { parseSignedPolicy, verifySignedPolicy } from '@elastos/runtime/boot/signed-policy';
import { profile } from './arch.js';
import { boxConfig, OVERLAY } from './image-tree.js';
import {
  espPolicyPath,
  installEspPolicies,
  installPcrSigningKey,
  PCR_POLICY_PATH,
  PCR_SIGNING_PUB_PATH,
  pcrSigningKey,
  SIGNED_PHASES,
  signReleasePolicy,
  signSlotPolicies,
} from './pcr-policy.js';

const h = (c: string) => c.repeat(64);
const slots = [
  { slot: 'a' as const, phases: { sysinit: h('1'), 'sysinit:ready': h('2') } },
  { slot: 'b' as const, phases: { sysinit: h('3'), 'sysinit:ready': h('4') } },
];

describe('the image signed PCR policy', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pcr-policy-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a dev PCR-signing key once (0600, RSA-2048) and reuses it; takes a vendor key instead', () => {
    const keys = join(dir, 'keys');
    const a = pcrSigningKey(keys);
    assert.equal(statSync(a.key).mode & 0o777, 0o600);
    const pub = readFileSync(a.pub, 'utf8');
    assert.match(pub, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(readFileSync(pcrSigningKey(keys).pub, 'utf8'), pub);
    const vendor = join(dir, 'vendor.pem');
    const v = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(vendor, v.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const k = pcrSigningKey(keys, vendor);
    assert.equal(k.key, vendor);
    assert.equal(readFileSync(k.pub, 'utf8'), v.publicKey.export({ format: 'pem', type: 'spki' }));
  });

  it('signs PCR 11 of each slot and phase with PCR 23, verifiable against the public key only', () => {
    const key = pcrSigningKey(join(dir, 'keys'));
    const file = parseSignedPolicy(Buffer.from(signReleasePolicy('7', key, slots, h('e'))));
    assert.equal(file.release, '7');
    assert.deepEqual(
      file.policies.map((e) => [e.label, e.pcrs.map((x) => `${x.pcr}=${x.value[0]}`).join(' ')]),
      [
        ['slot a, sysinit', '11=1 23=e'],
        ['slot a, sysinit:ready', '11=2 23=e'],
        ['slot b, sysinit', '11=3 23=e'],
        ['slot b, sysinit:ready', '11=4 23=e'],
      ],
    );
    assert.deepEqual(SIGNED_PHASES, ['sysinit', 'sysinit:ready']);
    assert.equal(verifySignedPolicy(file, readFileSync(key.pub, 'utf8')), true);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    assert.equal(verifySignedPolicy(file, other), false);
    assert.throws(
      () => signReleasePolicy('7', key, [{ slot: 'a', phases: { sysinit: h('1') } }], h('e')),
      /phase sysinit:ready/,
    );
  });

  it('one policy file per slot on the ESP (its entries only), the public key on the root, the config naming both', () => {
    const key = pcrSigningKey(join(dir, 'keys'));
    const root = join(dir, 'root');
    const esp = join(dir, 'esp');
    installPcrSigningKey(root, key);
    installEspPolicies(esp, signSlotPolicies('7', key, slots, h('e')));
    const config = parseConfig(boxConfig(profile('amd64')), '/etc/elastos');
    assert.deepEqual(config.tpm.pcrSigning, { publicKey: PCR_SIGNING_PUB_PATH, policy: PCR_POLICY_PATH });
    assert.equal(PCR_POLICY_PATH.startsWith('/run/'), true, 'the policy is not on the (verity) root');
    assert.equal(existsSync(join(root, 'usr/lib/elastos/pcr-policy.json')), false);
    const pub = readFileSync(join(root, PCR_SIGNING_PUB_PATH), 'utf8');
    for (const [slot, first] of [
      ['a', '1'],
      ['b', '3'],
    ] as const) {
      const file = parseSignedPolicy(readFileSync(join(esp, espPolicyPath(slot))));
      assert.deepEqual(
        file.policies.map((e) => e.label),
        SIGNED_PHASES.map((ph) => `slot ${slot}, ${ph}`),
      );
      assert.equal(file.policies[0]?.pcrs.map((x) => `${x.pcr}=${x.value[0]}`).join(' '), `11=${first} 23=e`);
      assert.equal(verifySignedPolicy(file, pub), true);
    }
    assert.equal(parseConfig(boxConfig(profile('amd64'), false), '/etc/elastos').tpm.pcrSigning, undefined);
  });

  it("pcr-policy-select copies the booted slot's file from the ESP, none for a box without one", () => {
    const key = pcrSigningKey(join(dir, 'keys'));
    const esp = join(dir, 'esp-select');
    installEspPolicies(esp, signSlotPolicies('7', key, slots, h('e')));
    const out = join(dir, 'run', 'pcr-policy.json');
    const run = (cmdline: string) => {
      writeFileSync(join(dir, 'cmdline'), `${cmdline}\n`);
      return spawnSync('sh', [join(OVERLAY, 'usr/lib/elastos/pcr-policy-select')], {
        encoding: 'utf8',
        env: {
          ...process.env,
          ELASTOS_ESP: esp,
          ELASTOS_PROC_CMDLINE: join(dir, 'cmdline'),
          ELASTOS_PCR_POLICY: out,
        },
      });
    };
    assert.equal(run('root=/dev/mapper/elastos-root rauc.slot=b ro').status, 0);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(esp, espPolicyPath('b')), 'utf8'));
    assert.equal(statSync(out).mode & 0o777, 0o644);
    assert.equal(run('rauc.slot=a ro').status, 0);
    assert.equal(parseSignedPolicy(readFileSync(out)).policies[0]?.label, 'slot a, sysinit');
    rmSync(join(esp, espPolicyPath('a')));
    const none = run('rauc.slot=a ro');
    assert.equal(none.status, 0);
    assert.match(none.stdout, /no signed PCR policy for slot a/);
    assert.equal(existsSync(out), false, 'a stale policy is not left behind');
    const noSlot = run('root=/dev/sda2 ro');
    assert.notEqual(noSlot.status, 0);
    assert.match(noSlot.stderr, /names no root slot/);
  });
});
