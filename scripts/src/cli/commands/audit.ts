import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditLog,
  configPath,
  ElastosError,
  exportRange,
  hasCode,
  loadConfig,
  parseConfig,
  parseSince,
  pruneAndAudit,
  type ShownRecord,
  Store,
  ToolsAnchor,
  tailRecords,
  type VerifyOptions,
  verifyAuditLog,
  verifyTokenState,
} from '@elastos/runtime';
import { type ExportLine, verifyExport } from '@elastos/verifier';
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon, followDaemon, type GlobalOptions, lazyBar } from '../daemon-call.js';
import { printRecords } from './audit-print.js';

interface OfflineOptions {
  store?: string;
  publicKey?: string[];
  tcti?: string;
  tpm?: boolean;
}

/** A 32-byte Ed25519 public key: hex, or a file holding hex or the raw bytes. */
function readPublicKey(text: string): Uint8Array {
  if (/^[0-9a-f]{64}$/i.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  let raw: Buffer;
  try {
    raw = readFileSync(text);
  } catch {
    throw new ElastosError('E_USAGE', `--public-key is neither 64 hex digits nor a readable file: ${text}`);
  }
  const hex = raw.toString('utf8').trim();
  if (/^[0-9a-f]{64}$/i.test(hex)) return new Uint8Array(Buffer.from(hex, 'hex'));
  if (raw.length === 32) return new Uint8Array(raw);
  throw new ElastosError('E_USAGE', `${text} does not hold a 32-byte public key`);
}

/** The config if there is one (offline use may have none: then the schema's defaults). */
function configOrDefaults(opts: GlobalOptions) {
  try {
    return loadConfig(configPath(opts.config));
  } catch (err) {
    if (opts.config) throw err;
    return parseConfig({ profile: 'production', runDir: '.', stateDir: '.' }, process.cwd());
  }
}

/** Opens a stopped runtime's store, runs `fn`, closes it. */
async function withStore<T>(dir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(dir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function verifyOffline(opts: GlobalOptions, o: OfflineOptions): Promise<unknown> {
  const config = configOrDefaults(opts);
  const options: VerifyOptions = {
    publicKeys: (o.publicKey ?? []).map(readPublicKey),
    stateChecks: [verifyTokenState], // revocations, epoch and use counters against the trail (token.md §8.3)
  };
  if (o.tpm !== false) {
    const indices = { extendIndex: config.audit.nvExtendIndex, counterIndex: config.audit.nvCounterIndex };
    options.anchor = await ToolsAnchor.open(o.tcti ?? config.tpm.tcti, indices, { define: false });
  }
  const bar = lazyBar('audit verify', opts);
  options.onProgress = bar.update;
  try {
    return await withStore(o.store as string, (store) => verifyAuditLog(store, options));
  } finally {
    bar.stop();
  }
}

/** With the runtime down, `audit verify` says how to verify its store directly. */
function offlineHint(opts: GlobalOptions) {
  return (err: unknown): never => {
    if (!hasCode(err, 'E_DAEMON_UNREACHABLE')) throw err;
    let store = '<stateDir>/store';
    try {
      store = join(loadConfig(configPath(opts.config)).stateDir, 'store');
    } catch {
      // no config: the placeholder stays
    }
    throw new ElastosError(
      'E_DAEMON_UNREACHABLE',
      `${(err as Error).message}. The runtime is not running: verify its store offline with \`elastos audit verify --store ${store}\` (the TPM anchor vouches for the runtime key; --public-key HEX trusts a key without it, --no-tpm skips the anchor)`,
    );
  };
}

function offlineOptions(cmd: Command): Command {
  return cmd.option('--store <dir>', 'read this store directory directly (the runtime must be stopped)');
}

const collect = (value: string, previous: string[]) => [...previous, value];

const int = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new ElastosError('E_USAGE', `${name} wants a non-negative integer, not ${v}`);
  return Number(v);
};

function printLines(lines: ExportLine[]): undefined {
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
  return undefined;
}

/** `audit verify|tail|export|proof|check|prune|checkpoint`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the append-only, TPM-anchored audit trail');
  registerReadCommands(program, audit);
  registerProofCommands(program, audit);
  registerMaintenanceCommands(program, audit);
}

function registerReadCommands(program: Command, audit: Command): void {
  offlineOptions(audit.command('verify'))
    .description(
      'walk the chain and checkpoints, check signatures and the TPM anchor; exit non-zero at the first bad seq',
    )
    .option(
      '--public-key <hex|file>',
      'offline: a runtime public key to trust (repeatable); else the TPM anchor vouches',
      collect,
      [],
    )
    .option('--tcti <tcti>', 'offline: the TPM to compare with (default: the config)')
    .option('--no-tpm', 'offline: skip the TPM anchor comparison')
    .action(
      action(program, async (opts, o: OfflineOptions) =>
        o.store
          ? verifyOffline(opts, o)
          : callDaemon(opts, 'audit.verify', {}, 'audit verify').catch(offlineHint(opts)),
      ),
    );

  offlineOptions(audit.command('tail'))
    .description('show the newest records')
    .option('-f, --follow', 'keep printing new records (runtime only)')
    .option('--since <when>', 'only records since 10m, 2h, 3d or a date')
    .option('--capsule <name>', 'only records of this capsule')
    .option('-n, --lines <n>', 'how many records', int('--lines'), 20)
    .option('--after <seq>', 'the records after this seq, oldest first (to page through a long trail)', int('--after'))
    .action(action(program, (opts, o: OfflineOptions & TailOptions) => tail(opts, o)));
}

function registerProofCommands(program: Command, audit: Command): void {
  offlineOptions(audit.command('export'))
    .description('print records FROM..TO as JSON lines with inclusion proofs against signed checkpoints')
    .requiredOption('--from <seq>', 'first seq', int('--from'))
    .requiredOption('--to <seq>', 'last seq', int('--to'))
    .action(
      action(program, async (opts, o: OfflineOptions & { from: number; to: number }) =>
        printLines(await exportLines(opts, o, o.from, o.to)),
      ),
    );

  offlineOptions(audit.command('proof'))
    .description('print the inclusion proof of one record and its signed checkpoint')
    .argument('<seq>', 'the record', int('SEQ'))
    .action(
      action(program, async (opts, seq: number, o: OfflineOptions) => {
        const lines = await exportLines(opts, o, seq, seq);
        return { checkpoint: lines[0], record: lines[1] };
      }),
    );

  audit
    .command('check')
    .description("an outsider's check of an export file: signatures and inclusion proofs, no database")
    .argument('<file>', 'JSON lines from `audit export`')
    .option('--public-key <hex|file>', 'a runtime public key to trust (repeatable)', collect, [])
    .action(
      action(program, async (_opts, file: string, o: { publicKey: string[] }) => {
        if (o.publicKey.length === 0) throw new ElastosError('E_USAGE', 'check needs at least one --public-key');
        const lines = readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as ExportLine);
        return { ok: true, ...(await verifyExport(lines, o.publicKey.map(readPublicKey))) };
      }),
    );
}

function registerMaintenanceCommands(program: Command, audit: Command): void {
  offlineOptions(audit.command('prune'))
    .description('delete records below a checkpoint (BELOW must be a checkpoint end + 1)')
    .requiredOption('--below <seq>', 'first seq to keep', int('--below'))
    .action(
      action(program, (opts, o: OfflineOptions & { below: number }) =>
        o.store
          ? withStore(o.store, async (s) => {
              const log = await AuditLog.open(s); // the next runtime start checkpoints this record
              try {
                return await pruneAndAudit(log, o.below, `admin:${process.getuid?.() ?? -1}`);
              } finally {
                await log.close();
              }
            })
          : callDaemon(opts, 'audit.prune', { below: o.below }),
      ),
    );

  audit
    .command('status')
    .description('the next sequence number and the last anchored checkpoint')
    .action(action(program, (opts) => callDaemon(opts, 'audit.status')));

  audit
    .command('checkpoint')
    .description('make and anchor a checkpoint now')
    .action(action(program, (opts) => callDaemon(opts, 'audit.checkpoint')));
}

async function exportLines(opts: GlobalOptions, o: OfflineOptions, from: number, to: number): Promise<ExportLine[]> {
  if (!o.store) return (await callDaemon(opts, 'audit.export', { from, to })) as ExportLine[];
  return withStore(o.store, (s) => exportRange(s, from, to));
}

interface TailOptions {
  follow?: boolean;
  since?: string;
  capsule?: string;
  lines: number;
  after?: number;
}

async function tail(opts: GlobalOptions, o: OfflineOptions & TailOptions): Promise<undefined> {
  const q = {
    limit: o.lines,
    ...(o.since ? { since: parseSince(o.since) } : {}),
    ...(o.capsule ? { capsule: o.capsule } : {}),
    ...(o.after !== undefined ? { after: o.after } : {}),
  };
  if (o.store) {
    if (o.follow) throw new ElastosError('E_USAGE', '--follow needs the running runtime, not --store');
    printRecords(await withStore(o.store, (s) => tailRecords(s, q)), opts.json === true);
    return undefined;
  }
  const shown = (await callDaemon(opts, 'audit.tail', q)) as Awaited<ReturnType<typeof tailRecords>>;
  printRecords(shown, opts.json === true);
  if (!o.follow) return undefined;
  // A subscription (runtime/spec/admin.md §Subscriptions): new records arrive as they are committed.
  const after = shown[shown.length - 1]?.seq ?? ((await callDaemon(opts, 'audit.status')) as { next: number }).next - 1;
  await followDaemon(opts, 'audit.tail', { ...q, after, follow: true }, (r) =>
    printRecords([r as ShownRecord], opts.json === true),
  );
  return undefined;
}
