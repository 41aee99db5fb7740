/**
 * The release's signed PCR policy (runtime/spec/boot.md §4.1, image-build/README.md "The signed
 * PCR policy"): the vendor's PCR-signing key signs, for each root slot and each boot phase in
 * which the runtime may unseal its key, the PCR 11 that systemd-measure predicts for that slot's
 * UKI and the PCR 23 the runtime measures to (the manifest's `pcrAfterRuntime`). The file and the
 * public key go into the root slot; the box's config names them (`tpm.pcrSigning`).
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signPcrPolicy } from '@elastos/runtime/boot/signed-policy';
import { require0, tail } from './rootfs.js';
import type { Slot } from './uki.js';

/** Where the root slot carries them (the box's config names these paths). */
export const PCR_POLICY_PATH = '/usr/lib/elastos/pcr-policy.json';
export const PCR_SIGNING_PUB_PATH = '/usr/lib/elastos/pcr-signing.pem';

/**
 * The systemd-pcrphase phases in which elastosd may unseal: it starts after `sysinit` (basic.target)
 * and is not ordered against `ready`, and restarts later; not `shutdown` and after.
 */
export const SIGNED_PHASES = ['sysinit', 'sysinit:ready'] as const;

export interface PcrSigningKey {
  /** PEM files: the private key (0600) and its SubjectPublicKeyInfo. */
  key: string;
  pub: string;
}

/**
 * The PCR-signing key: the vendor's (`--pcr-key KEY.pem`, RSA-2048), else a dev key made once in
 * `keysDir` (never committed: the build dir is outside git). Its public half is written beside it.
 */
export function pcrSigningKey(keysDir: string, vendorKey?: string): PcrSigningKey {
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const key = vendorKey ?? join(keysDir, 'pcr-signing.key.pem');
  if (!vendorKey && !existsSync(key)) {
    const made = spawnSync(
      'openssl',
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key],
      {
        encoding: 'utf8',
      },
    );
    require0(made.status, `openssl genpkey (dev PCR-signing key): ${tail(made.stderr)}`);
    chmodSync(key, 0o600);
  }
  const pub = join(keysDir, vendorKey ? 'pcr-signing.vendor.pub.pem' : 'pcr-signing.pub.pem');
  const pem = createPublicKey(createPrivateKey(readFileSync(key))).export({ format: 'pem', type: 'spki' });
  writeFileSync(pub, pem);
  return { key, pub };
}

export interface SlotPcr11 {
  slot: Slot;
  /** PCR 11 per signed phase (SIGNED_PHASES), as systemd-measure predicts it. */
  phases: Record<string, string>;
}

/** The policy file's text: one signed entry per slot and phase, each over PCR 11 and PCR 23. */
export function signReleasePolicy(version: string, key: PcrSigningKey, slots: SlotPcr11[], pcr23: string): string {
  const entries = slots.flatMap((s) =>
    SIGNED_PHASES.map((phase) => {
      const pcr11 = s.phases[phase];
      require0(pcr11 ? 0 : 1, `no PCR 11 prediction for slot ${s.slot}, phase ${phase}`);
      return { label: `slot ${s.slot}, ${phase}`, pcrs: { 11: pcr11 ?? '', 23: pcr23 } };
    }),
  );
  return signPcrPolicy(version, readFileSync(key.key, 'utf8'), entries);
}

/** Writes the policy and the public key into an image root. */
export function installPcrPolicy(root: string, policy: string, key: PcrSigningKey): void {
  mkdirSync(join(root, 'usr/lib/elastos'), { recursive: true });
  writeFileSync(join(root, PCR_POLICY_PATH), policy, { mode: 0o644 });
  writeFileSync(join(root, PCR_SIGNING_PUB_PATH), readFileSync(key.pub), { mode: 0o644 });
}

/**
 * A copy of a root slot's ext4 image with its signed PCR policy replaced (debugfs, no mount): the
 * QEMU update test's release N+1 reuses release N's root, and must carry N+1's signed policy, as a
 * real N+1 build would.
 */
export function withPolicy(rootImage: string, policy: string, work: string, out: string): string {
  mkdirSync(work, { recursive: true });
  const local = join(work, 'pcr-policy.json');
  writeFileSync(local, policy);
  copyFileSync(rootImage, out);
  const dir = PCR_POLICY_PATH.slice(0, PCR_POLICY_PATH.lastIndexOf('/'));
  const name = PCR_POLICY_PATH.slice(PCR_POLICY_PATH.lastIndexOf('/') + 1);
  const cmds = join(work, 'debugfs.cmd');
  writeFileSync(cmds, `cd ${dir}\nrm ${name}\nwrite ${local} ${name}\nsif ${name} mode 0100644\n`);
  const w = spawnSync('debugfs', ['-w', '-f', cmds, out], { encoding: 'utf8' });
  require0(w.status, `debugfs write ${PCR_POLICY_PATH}: ${tail(`${w.stdout}${w.stderr}`)}`);
  const back = spawnSync('debugfs', ['-R', `cat ${PCR_POLICY_PATH}`, out], { encoding: 'utf8', maxBuffer: 1 << 20 });
  require0(back.stdout === policy ? 0 : 1, `${PCR_POLICY_PATH} did not read back from ${out}`);
  return out;
}
