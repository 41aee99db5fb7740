/**
 * The image's signed PCR policy (runtime/spec/boot.md §4.1, README "The signed PCR policy"),
 * without an image build: the dev PCR-signing key, the signed entries (two slots x two phases,
 * PCR 11 and PCR 23), what goes into the root and the box's config, and the N+1 root of the
 * QEMU update test made by replacing the policy inside an ext4 image.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@elastos/runtime';
import { parseSignedPolicy, verifySignedPolicy } from '@elastos/runtime/boot/signed-policy';
import { profile } from './arch.js';
import { boxConfig } from './image-tree.js';
import {
  installPcrPolicy,
  PCR_POLICY_PATH,
  PCR_SIGNING_PUB_PATH,
  pcrSigningKey,
  SIGNED_PHASES,
  signReleasePolicy,
  withPolicy,
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

  it('installs the policy and public key where the box config names them', () => {
    const key = pcrSigningKey(join(dir, 'keys'));
    const root = join(dir, 'root');
    installPcrPolicy(root, signReleasePolicy('7', key, slots, h('e')), key);
    const config = parseConfig(boxConfig(profile('amd64')), '/etc/elastos');
    assert.deepEqual(config.tpm.pcrSigning, { publicKey: PCR_SIGNING_PUB_PATH, policy: PCR_POLICY_PATH });
    const file = parseSignedPolicy(readFileSync(join(root, PCR_POLICY_PATH)));
    assert.equal(verifySignedPolicy(file, readFileSync(join(root, PCR_SIGNING_PUB_PATH), 'utf8')), true);
    assert.equal(parseConfig(boxConfig(profile('amd64'), false), '/etc/elastos').tpm.pcrSigning, undefined);
  });

  it("replaces the policy inside a root slot's ext4 image for release N+1, the original untouched", () => {
    const key = pcrSigningKey(join(dir, 'keys'));
    const tree = join(dir, 'tree');
    installPcrPolicy(tree, signReleasePolicy('7', key, slots, h('e')), key);
    mkdirSync(join(tree, 'etc'), { recursive: true });
    const image = join(dir, 'root.ext4');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, image, '8M']);
    const n1 = signReleasePolicy('8', key, slots, h('e'));
    const out = withPolicy(image, n1, join(dir, 'work'), join(dir, 'root-8.ext4'));
    const cat = (img: string) =>
      execFileSync('debugfs', ['-R', `cat ${PCR_POLICY_PATH}`, img], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
    assert.equal(parseSignedPolicy(Buffer.from(cat(out))).release, '8');
    assert.equal(parseSignedPolicy(Buffer.from(cat(image))).release, '7');
  });
});
