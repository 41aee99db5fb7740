import { readFileSync } from 'node:fs';
import {
  addTrustedKey,
  ElastosError,
  loadTrustStore,
  parseKeyFile,
  publicKeyEntry,
  removeTrustedKey,
} from '@elastos/runtime';
import type { Command } from 'commander';
import { action } from '../action.js';
import { trustDirOf } from './capsule.js';

/** `trust add|list|remove`: the publisher keys in the config's trustDir (plain files; works offline). */
export function registerTrustCommands(program: Command): void {
  const trust = program.command('trust').description("publisher keys trusted to sign capsules (the config's trustDir)");

  trust
    .command('add [file]')
    .description(
      'trust a publisher key from a .pub file (or a keygen secret file: only its public half), or --name/--key',
    )
    .option('--name <name>', 'publisher name (with --key)')
    .option('--key <hex>', 'raw Ed25519 public key, 64 hex digits')
    .option('--trust-dir <dir>', 'trust store folder (default: from the config)')
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
        const path = addTrustedKey(trustDirOf(opts, o.trustDir), key);
        return { keyId: key.keyId, name: key.name, file: path };
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
        removeTrustedKey(trustDirOf(opts, o.trustDir), keyId);
        return { removed: keyId };
      }),
    );
}
