import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { signPackage } from '@elastos/publisher';
import {
  type CapsuleSummary,
  type CapsuleType,
  decodePackage,
  ElastosError,
  loadConfig,
  loadTrustStore,
  MAX_PACKAGE_BYTES,
  verifyPackage,
} from '@elastos/runtime';
import type { Command } from 'commander';
import { withCapsules } from '../../capsule/capsule-access.js';
import { packDir, scaffold } from '../../capsule/pack-dir.js';
import { generateKey, readSecretKey } from '../../capsule/publisher-key.js';
import { action } from '../action.js';
import type { GlobalOptions } from '../daemon-call.js';
import { printTable } from '../output.js';
import { registerCapsuleRunCommands } from './capsule-run.js';

function readPackageFile(path: string): Uint8Array {
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_PACKAGE_BYTES) throw new ElastosError('E_CAPSULE_INVALID', `${path} is over the size cap`);
    return new Uint8Array(bytes);
  } catch (err) {
    if (err instanceof ElastosError) throw err;
    throw new ElastosError('E_NOT_FOUND', `cannot read ${path}: ${(err as Error).message}`);
  }
}

export function trustDirOf(opts: GlobalOptions, explicit?: string): string {
  return explicit ? resolve(explicit) : loadConfig(opts.config ?? process.env.ELASTOS_CONFIG).trustDir;
}

function printList(rows: CapsuleSummary[], via: string): void {
  printTable(
    ['NAME', 'VERSION', 'PUBLISHER', 'ID', 'PREVIOUS'],
    rows.map((r) => [r.name, r.version, r.publisher, r.id, r.previous?.version ?? '-']),
    `no capsules installed (${via})`,
  );
}

/** Publisher tooling (`new`, `keygen`, `pack`, `sign`, `verify`: offline) and the capsule store of the box. */
export function registerCapsuleCommands(program: Command): void {
  const capsule = program.command('capsule').description('make, sign, verify and install capsule packages');
  registerMakeCommands(program, capsule);
  registerSignCommands(program, capsule);
  registerStoreCommands(program, capsule);
  registerCapsuleRunCommands(program, capsule);
}

/** `new`, `keygen`, `pack`. */
function registerMakeCommands(program: Command, capsule: Command): void {
  capsule
    .command('new <name>')
    .description('scaffold a working capsule folder (manifest.json + main.js)')
    .option('--dir <parent>', 'where to create the folder', '.')
    .option('--type <type>', 'app | provider | shell', 'app')
    .option('--key <keyfile>', 'publisher secret key: its id goes into the manifest (else `capsule sign` sets it)')
    .action(
      action(program, async (_opts, name: string, o: { dir: string; type: string; key?: string }) => {
        const publisher = o.key ? (await readSecretKey(o.key)).keyId : '0000000000000000';
        return { created: scaffold(resolve(o.dir), name, o.type as CapsuleType, publisher) };
      }),
    );

  capsule
    .command('keygen')
    .description('make a publisher key: FILE (secret, 0600) and FILE.pub (for `elastos trust add`)')
    .requiredOption('--out <file>', 'secret key file to create')
    .option('--name <name>', 'publisher name', 'publisher')
    .action(
      action(program, async (_opts, o: { out: string; name: string }) => {
        const key = await generateKey(o.name, o.out);
        return {
          keyId: key.keyId,
          name: key.name,
          publicKey: Buffer.from(key.publicKey).toString('hex'),
          secret: o.out,
          public: `${o.out}.pub`,
        };
      }),
    );

  capsule
    .command('pack <dir>')
    .description('pack a capsule folder into an unsigned package (deterministic)')
    .option('--out <file>', 'package file (default NAME-VERSION.capsule)')
    .action(
      action(program, async (_opts, dir: string, o: { out?: string }) => {
        const { manifest, bytes } = packDir(resolve(dir));
        const out = o.out ?? `${manifest.name}-${manifest.version}.capsule`;
        writeFileSync(out, bytes);
        return { package: out, id: decodePackage(bytes).id, bytes: bytes.length, signed: false };
      }),
    );
}

/** `sign`, `verify`. */
function registerSignCommands(program: Command, capsule: Command): void {
  capsule
    .command('sign <file>')
    .description("sign a package with a publisher key (sets the manifest's publisher to the key id)")
    .requiredOption('--key <keyfile>', 'publisher secret key file')
    .option('--out <file>', 'signed package file (default: replace FILE)')
    .action(
      action(program, async (_opts, file: string, o: { key: string; out?: string }) => {
        const key = await readSecretKey(o.key);
        const signed = await signPackage(readPackageFile(file), key.secretKey);
        writeFileSync(o.out ?? file, signed);
        return { package: o.out ?? file, id: decodePackage(signed).id, publisher: key.keyId };
      }),
    );

  capsule
    .command('verify <file>')
    .description("verify a package against the trust store (the config's trustDir, or --trust-dir)")
    .option('--trust-dir <dir>', 'trust store folder')
    .action(
      action(program, async (opts, file: string, o: { trustDir?: string }) => {
        const trustDir = trustDirOf(opts, o.trustDir);
        const v = await verifyPackage(readPackageFile(file), loadTrustStore(trustDir));
        const { name, version, type, network, limits, capabilities } = v.parsed;
        return {
          ok: true,
          id: v.id,
          name,
          version,
          type,
          publisher: v.publisher.keyId,
          publisherName: v.publisher.name,
          files: v.files.size,
          network,
          limits,
          capabilities,
        };
      }),
    );
}

/** `install`, `list`, `remove`, `rollback`: through the runtime when it answers, else on the state dir. */
function registerStoreCommands(program: Command, capsule: Command): void {
  capsule
    .command('install <file>')
    .description('verify and install a package (through the runtime if it runs, else on the state dir)')
    .action(
      action(program, (opts, file: string) => {
        const path = resolve(file);
        return withCapsules(
          opts,
          async (call) => (await call('capsule.install', { path }, 'capsule install')) as CapsuleSummary,
          (c, actor) => c.install(readPackageFile(path), actor),
        );
      }),
    );

  capsule
    .command('list')
    .description('list installed capsules')
    .action(
      action(program, async (opts) => {
        const r = await withCapsules(
          opts,
          async (call) => ({ capsules: (await call('capsule.list')) as CapsuleSummary[] }),
          async (c) => ({ capsules: await c.list() }),
        );
        if (opts.json) return r;
        printList(r.capsules, r.via);
        return undefined;
      }),
    );

  for (const [verb, help] of [
    ['remove', 'remove a capsule: every version and its data'],
    ['rollback', 'return a capsule to its previous version (its data is kept)'],
  ] as const) {
    capsule
      .command(`${verb} <name>`)
      .description(help)
      .action(
        action(program, (opts, name: string) =>
          withCapsules(
            opts,
            async (call) => (await call(`capsule.${verb}`, { name })) as Record<string, unknown>,
            (c, actor) =>
              (verb === 'remove' ? c.remove(name, actor) : c.rollback(name, actor)) as Promise<Record<string, unknown>>,
          ),
        ),
      );
  }
}
