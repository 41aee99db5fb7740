/**
 * The release's signed PCR policy (runtime/spec/boot.md §4.1, image-build/README.md "The signed
 * PCR policy"): the vendor's PCR-signing key signs, for each root slot and each boot phase in
 * which the runtime may unseal its key, the PCR 11 that systemd-measure predicts for that slot's
 * UKI (whose command line carries the slot's dm-verity root hash) and the PCR 23 the runtime
 * measures to (the manifest's `pcrAfterRuntime`: its config and trust store, on the data partition).
 * The policy depends on the root hash, so it cannot be on the root: one file per slot goes on the
 * ESP (`/elastos/pcr-policy-SLOT.json`), and `elastos-pcr-policy.service` copies the booted slot's
 * to the path the box's config names (`tpm.pcrSigning`). The public key stays on the root.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signPcrPolicy } from '@elastos/runtime/boot/signed-policy';
import { require0, tail } from './rootfs.js';
import type { Slot } from './uki.js';

/**
 * The booted slot's policy, where `elastos-pcr-policy.service` copies it from the ESP at every boot
 * (the box's config names this path and the public key's).
 */
export const PCR_POLICY_PATH = '/run/elastos-boot/pcr-policy.json';
/** The public key, on the (dm-verity) root slot. */
export const PCR_SIGNING_PUB_PATH = '/usr/lib/elastos/pcr-signing.pem';
/** Each slot's signed policy on the ESP (mounted at /boot/firmware on the box), beside its UKI. */
export const espPolicyPath = (slot: Slot) => `elastos/pcr-policy-${slot}.json`;

/**
 * The PCRs each signed entry names: PCR 11 (kernel, initramfs, release and command line, so the
 * root slot's dm-verity root hash: every byte of the runtime, Node and the root's config files) and
 * PCR 23 (the runtime's own measurement of its config and trust store, which live on the data
 * partition, where no verity reaches; the runtime measuring them is itself on the verity root).
 * The format allows any set (`elastos-pcr-policy/1`): PCR 11 alone is `[11]` here.
 */
export const SIGNED_PCRS = [11, 23] as const;

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

/** A policy file's text: one signed entry per given slot and phase, each over SIGNED_PCRS. */
export function signReleasePolicy(version: string, key: PcrSigningKey, slots: SlotPcr11[], pcr23: string): string {
  const entries = slots.flatMap((s) =>
    SIGNED_PHASES.map((phase) => {
      const pcr11 = s.phases[phase];
      require0(pcr11 ? 0 : 1, `no PCR 11 prediction for slot ${s.slot}, phase ${phase}`);
      const values: Record<number, string> = { 11: pcr11 ?? '', 23: pcr23 };
      const pcrs = Object.fromEntries(SIGNED_PCRS.map((n) => [n, values[n] ?? '']));
      return { label: `slot ${s.slot}, ${phase}`, pcrs };
    }),
  );
  return signPcrPolicy(version, readFileSync(key.key, 'utf8'), entries);
}

/** Each slot's own policy file (its entries only), signed: what goes on the ESP and into a bundle. */
export function signSlotPolicies(
  version: string,
  key: PcrSigningKey,
  slots: SlotPcr11[],
  pcr23: string,
): Record<Slot, string> {
  const out: Partial<Record<Slot, string>> = {};
  for (const s of slots) out[s.slot] = signReleasePolicy(version, key, [s], pcr23);
  require0(out.a && out.b ? 0 : 1, 'a signed policy needs both slots');
  return out as Record<Slot, string>;
}

/** The public key into an image root (the dm-verity root slot). */
export function installPcrSigningKey(root: string, key: PcrSigningKey): void {
  mkdirSync(join(root, 'usr/lib/elastos'), { recursive: true });
  writeFileSync(join(root, PCR_SIGNING_PUB_PATH), readFileSync(key.pub), { mode: 0o644 });
}

/** Each slot's signed policy onto the ESP tree (`elastos/pcr-policy-SLOT.json`). */
export function installEspPolicies(esp: string, policies: Record<Slot, string>): void {
  mkdirSync(join(esp, 'elastos'), { recursive: true });
  for (const [slot, text] of Object.entries(policies)) writeFileSync(join(esp, espPolicyPath(slot as Slot)), text);
}
