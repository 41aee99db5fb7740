import { createWriteStream } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ElastosError, loadConfig, type UpdateStatus } from '@elastos/runtime';
import type { Command } from 'commander';
import { action } from '../action.js';
import { callDaemon, type GlobalOptions } from '../daemon-call.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';

/**
 * A URL or stdin (`-`, the way over SSH: the key runs elastos only) lands in the runtime's update
 * inbox (group elastos-admin); the runtime copies it into its own directory before any check.
 */
async function intoInbox(opts: GlobalOptions, source: string): Promise<string> {
  const inbox = loadConfig(opts.config ?? process.env.ELASTOS_CONFIG).update.inboxDir;
  const file = join(inbox, `bundle-${process.pid}-${Date.now()}.raucb`);
  let body: Readable;
  let total = 0;
  if (source === '-') body = process.stdin;
  else {
    const res = await fetch(source).catch((cause: Error) => {
      throw new ElastosError('E_UPDATE_FETCH', `cannot download ${source}: ${cause.message}`, { cause });
    });
    if (!res.ok || !res.body) throw new ElastosError('E_UPDATE_FETCH', `${source}: HTTP ${res.status}`);
    total = Number(res.headers.get('content-length') ?? 0);
    body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  const bar = createProgress('download', Math.max(total, 1), { json: opts.json === true || total === 0 });
  let done = 0;
  body.on('data', (c: Buffer) => {
    done += c.length;
    bar.update(done);
  });
  try {
    await pipeline(body, createWriteStream(file, { mode: 0o640 }));
  } catch (cause) {
    throw new ElastosError('E_UPDATE_FETCH', `cannot write ${file}: ${(cause as Error).message}`, { cause });
  } finally {
    bar.stop();
  }
  return file;
}

function printStatus(s: UpdateStatus): void {
  const rows = s.slots.map((x) => [
    `${x.slot}${x.booted ? ' (booted)' : ''}${s.next === x.slot ? ' (next)' : ''}`,
    x.state,
    x.version ? String(x.version) : '-',
    x.triesLeft === undefined ? '-' : `${x.triesLeft} left, ${x.triesDone ?? 0} done`,
  ]);
  process.stdout.write(`${renderTable(['slot', 'state', 'version', 'boot attempts'], rows)}\n`);
  process.stdout.write(`version floor: ${s.floor ?? 'none (no TPM)'}\n`);
  if (s.pending) process.stdout.write(`pending: version ${s.pending.version} in slot ${s.pending.slot}\n`);
}

/** `update install FILE|URL|-`, `update status`, `update undo` (runtime/spec/update.md §5). */
export function registerUpdateCommands(program: Command): void {
  const update = program.command('update').description('signed A/B updates of the root slot (RAUC bundles)');
  update
    .command('install <source>')
    .description('check a signed bundle (FILE, http(s) URL, or - for stdin) and write it to the other slot')
    .action(
      action(program, async (opts, source: string) => {
        const remote = /^https?:\/\//.test(source);
        const file = remote || source === '-' ? await intoInbox(opts, source) : resolve(source);
        if (!isAbsolute(file)) throw new ElastosError('E_USAGE', 'install needs a file, an http(s) URL or -');
        const r = (await callDaemon(opts, 'update.install', { file }, 'install')) as { slot: string; version: number };
        if (opts.json) return r;
        process.stdout.write(`installed version ${r.version} into slot ${r.slot}: it boots at the next reboot\n`);
        return undefined;
      }),
    );
  update
    .command('status')
    .description('both slots: state, version, boot attempts left, which one booted and boots next; the version floor')
    .action(
      action(program, async (opts) => {
        const s = (await callDaemon(opts, 'update.status')) as UpdateStatus;
        if (opts.json) return s;
        printStatus(s);
        return undefined;
      }),
    );
  update
    .command('undo')
    .description('boot the other slot next (cancel an install not yet booted, or go back to the older release)')
    .action(
      action(program, async (opts) => {
        const r = (await callDaemon(opts, 'update.undo')) as { next: string };
        if (opts.json) return r;
        process.stdout.write(`slot ${r.next} boots next\n`);
        return undefined;
      }),
    );
  update
    .command('confirm')
    .description('after systemd-bless-boot marked the booted slot good: record it and raise the version floor')
    .action(action(program, (opts) => callDaemon(opts, 'update.confirm')));
}
