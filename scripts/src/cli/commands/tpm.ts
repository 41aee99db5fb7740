import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import {
  ElastosError,
  eventLogPath,
  filesToJson,
  hasCode,
  loadConfig,
  makeAttestation,
  parseNonce,
  provisionAudited,
  Store,
  tpmStatus,
  writeAttestation,
} from '@elastos/runtime';
import {
  type AttestationFiles,
  type BootVerdict,
  checkRelease,
  parseEventLog,
  readReleaseManifest,
  verifyAttestation,
} from '@elastos/verifier';
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon, type GlobalOptions } from '../daemon-call.js';

/** Asks the running runtime (it owns the TPM connection); undefined when no runtime runs. */
async function fromDaemon(opts: GlobalOptions, cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
  try {
    return await callDaemon(opts, cmd, args);
  } catch (err) {
    if (hasCode(err, 'E_DAEMON_UNREACHABLE')) return undefined;
    throw err;
  }
}

async function withStore<T>(opts: GlobalOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig(opts.config ?? process.env.ELASTOS_CONFIG);
  const store = await Store.open(join(config.stateDir, 'store'));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function offlineStatus(opts: GlobalOptions): Promise<unknown> {
  const config = loadConfig(opts.config ?? process.env.ELASTOS_CONFIG);
  return withStore(opts, async (store) => {
    const tpm = await Tpm.open(config.tpm.tcti).catch((err: Error) => err);
    if (tpm instanceof Error) return { ...(await tpmStatus(config, store, undefined)), error: tpm.message };
    try {
      return await tpmStatus(config, store, tpm);
    } finally {
      await tpm.close();
    }
  });
}

/** With no runtime running: quote now, and ship the event log the last boot (or provision) left. */
async function offlineAttest(opts: GlobalOptions, nonce: Uint8Array): Promise<AttestationFiles> {
  const config = loadConfig(opts.config ?? process.env.ELASTOS_CONFIG);
  let log: ReturnType<typeof parseEventLog>;
  try {
    log = parseEventLog(readFileSync(eventLogPath(config)));
  } catch (cause) {
    throw new ElastosError('E_NOT_FOUND', `no boot event log at ${eventLogPath(config)}: start the runtime first`, {
      cause,
    });
  }
  const tpm = await Tpm.open(config.tpm.tcti);
  try {
    return await makeAttestation(tpm, config.tpm.pcr, nonce, log);
  } finally {
    await tpm.close();
  }
}

function toBase64(files: Record<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
}

function fromBase64(files: Record<string, string>): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

/** What `attest verify --expect` says of the boot chain, in one line. */
function bootChainLine(boot: BootVerdict): string {
  if (!boot.checked) return boot.why;
  const release = boot.version === undefined ? '' : ` of release ${boot.version}`;
  return `root slot ${boot.slot}${release} (PCR 11 ${boot.pcr11.slice(0, 16)}…)`;
}

/** `provision`, `attest`, `attest verify`, `tpm status` (runtime/spec/boot.md). */
export function registerTpmCommands(program: Command): void {
  program
    .command('provision')
    .description('seal a new runtime key to the measured runtime, config and trust store (runtime stopped)')
    .option('--reseal', 'after an authorised update: seal a NEW key to the current measurements')
    .option('--if-needed', 'provision only when no key is sealed; else check that it unseals')
    .action(
      action(program, async (opts, o: { reseal?: boolean; ifNeeded?: boolean }) => {
        const config = loadConfig(opts.config ?? process.env.ELASTOS_CONFIG);
        const mode = o.reseal ? 'reseal' : o.ifNeeded ? 'if-needed' : 'new';
        const actor = `admin:${process.getuid?.() ?? -1}`;
        return withStore(opts, (store) => provisionAudited(config, store, mode, actor));
      }),
    );

  const attest = program
    .command('attest')
    .description(
      'quote PCR 11 (the boot chain) and the runtime PCR with a nonce; write quote, signature, AK, PCR values, event log',
    )
    .option('--nonce <hex>', 'the verifier’s fresh nonce (1-64 bytes of hex)')
    .option('--out <dir>', "directory to write the attestation to; '-': print its files (base64) as JSON")
    .action(
      action(program, async (opts, o: { nonce?: string; out?: string }) => {
        if (!o.out) throw new ElastosError('E_USAGE', 'attest needs --out DIR (or --out - over SSH)');
        const nonce = parseNonce(o.nonce);
        const reply = (await fromDaemon(opts, 'tpm.attest', { nonce: o.nonce })) as { files: Record<string, string> };
        // '-': a remote verifier (an admin over SSH, the HIL rig) takes the files home and checks them there.
        if (o.out === '-') return { nonce: o.nonce, files: reply?.files ?? toBase64(await offlineAttest(opts, nonce)) };
        const files = reply ? fromBase64(reply.files) : await offlineAttest(opts, nonce);
        // An admin over SSH runs elastos only (no scp): the files come back on stdout.
        if (o.out === '-') return { nonce: o.nonce, files: filesToJson(files) };
        writeAttestation(resolve(o.out), files);
        return { out: resolve(o.out), nonce: o.nonce, files: Object.keys(files) };
      }),
    );
  attest
    .command('verify <dir>')
    .description(
      'check an attestation: quote signature, nonce, PCR digest (PCR 11 and the runtime PCR), event log replay (no TPM needed)',
    )
    .option('--nonce <hex>', 'the nonce the quote must carry')
    .option(
      '--expect <manifest>',
      "the release's manifest.json (image-build): the box booted one of its root slots (PCR 11; named) and runs its runtime, config, trust store and capsules",
    )
    .action(
      action(program, async (opts, dir: string, o: { nonce?: string; expect?: string }) => {
        const hex = o.nonce ?? attest.opts<{ nonce?: string }>().nonce;
        const v = verifyAttestation(resolve(dir), hex === undefined ? {} : { nonce: parseNonce(hex) });
        const release = o.expect ? checkRelease(v, readReleaseManifest(resolve(o.expect))) : undefined;
        const extra = release ? { release: { manifest: resolve(o.expect ?? ''), ...release } } : {};
        if (opts.json) return { verified: true, ...v, ...extra };
        const bootChain = release ? { bootChain: bootChainLine(release.boot) } : {};
        return { verified: true, ...v, events: v.events.length, ...bootChain, ...extra };
      }),
    );

  program
    .command('tpm')
    .description('the TPM')
    .command('status')
    .description('TPM reachable, manufacturer, lockout, the runtime PCR, provisioned or not')
    .action(action(program, async (opts) => (await fromDaemon(opts, 'tpm.status')) ?? offlineStatus(opts)));
}
