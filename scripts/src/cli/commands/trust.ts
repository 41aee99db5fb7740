import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  addTrustedKey,
  ElastosError,
  loadTrustStore,
  parseKeyFile,
  publicKeyEntry,
  removeTrustedKey,
  type TrustChange,
  trustKey,
  untrustKey,
} from '@elastos/runtime';
import type { Command } from 'commander';
import { withRuntimeOrStore } from '../../capsule/capsule-access.js';
import { action } from '../action.js';
import { trustDirOf } from './capsule.js';

/**
 * `trust add|list|remove`: the publisher keys in the config's trustDir. Changes go through the
 * runtime when it runs, else on the stopped runtime's store; audited either way, and each says
 * that the next start needs `provision --reseal` (the trust store is measured).
 */
export function registerTrustCommands(program: Command): void {
  const trust = program.command('trust').description("publisher keys trusted to sign capsules (the config's trustDir)");

  trust
    .command('add [file]')
    .description(
      'trust a publisher key from a .pub file (or a keygen secret file: only its public half), or --name/--key',
    )
    .option('--name <name>', 'publisher name (with --key)')
    .option('--key <hex>', 'raw Ed25519 public key, 64 hex digits')
    .option('--trust-dir <dir>', "write this folder directly, not audited (default: the config's, through the runtime)")
    .action(
      action(program, async (opts, file: string | undefined, o: { name?: string; key?: string; trustDir?: string }) => {
        if ((file === undefined) === (o.key === undefined))
          throw new ElastosError('E_USAGE', 'give FILE or --key HEX (not both)');
        let key = o.key !== undefined ? publicKeyEntry(o.name ?? '', o.key) : undefined;
        if (file !== undefined) {
          let text: string;
          try {
            text = readFileSync(file, 'utf8');
          } catch (err) {
            throw new ElastosError('E_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`);
          }
          key = parseKeyFile(text);
          if (o.name !== undefined) key.name = o.name;
        }
        if (!key) throw new ElastosError('E_USAGE', 'no key given');
        const k = key;
        // A folder named outright is publisher tooling (e.g. an image being built): a plain file write.
        if (o.trustDir) return { keyId: k.keyId, name: k.name, file: addTrustedKey(resolve(o.trustDir), k) };
        const publicKey = Buffer.from(k.publicKey).toString('hex');
        return withRuntimeOrStore(
          opts,
          async (call) => (await call('trust.add', { name: k.name, publicKey })) as TrustChange,
          ({ config, audit, actor }) => trustKey(config.trustDir, k, audit, actor),
        );
      }),
    );

  trust
    .command('list')
    .description('list trusted publisher keys (and files that are not valid keys)')
    .option('--trust-dir <dir>', 'trust store folder (default: from the config)')
    .action(
      action(program, async (opts, o: { trustDir?: string }) => {
        const dir = trustDirOf(opts, o.trustDir);
        const store = loadTrustStore(dir);
        const keys = [...store.keys.values()].map((k) => ({
          keyId: k.keyId,
          name: k.name,
          publicKey: Buffer.from(k.publicKey).toString('hex'),
        }));
        if (opts.json) return { trustDir: dir, keys, rejected: store.rejected };
        if (keys.length === 0) process.stdout.write(`no trusted keys in ${dir}\n`);
        for (const k of keys) process.stdout.write(`${k.keyId}  ${k.name}\n`);
        for (const r of store.rejected) process.stdout.write(`ignored ${r.file}: ${r.reason}\n`);
        return undefined;
      }),
    );

  trust
    .command('remove <keyId>')
    .description('stop trusting a publisher key (its capsules are refused at the next start)')
    .option('--trust-dir <dir>', 'trust store folder (default: from the config)')
    .action(
      action(program, async (opts, keyId: string, o: { trustDir?: string }) => {
        if (o.trustDir) {
          removeTrustedKey(resolve(o.trustDir), keyId);
          return { removed: keyId };
        }
        return withRuntimeOrStore(
          opts,
          async (call) => (await call('trust.remove', { keyId })) as TrustChange,
          ({ config, audit, actor }) => untrustKey(config.trustDir, keyId, audit, actor),
        );
      }),
    );
}
