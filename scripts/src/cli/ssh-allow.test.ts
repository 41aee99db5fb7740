/**
 * The SSH wrapper's allow list (scripts/ssh/elastos-ssh-wrapper) against the CLI's own command tree
 * and against what the HIL suite and the image's boot test run over SSH. The wrapper runs for
 * real (bash), with a recorder in elastos's place that prints the words it was given.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import type { Command, Option } from 'commander';
import { REPO_ROOT } from '../workspaces.js';
import { buildProgram } from './program.js';

const WRAPPER = join(REPO_ROOT, 'scripts', 'ssh', 'elastos-ssh-wrapper');

/** Commands an admin key never runs, and why (offline, developer or outsider tools). */
const REFUSED_COMMANDS: Record<string, string> = {
  provision: 'seals a key on the TPM directly: run at the box, as root',
  'capsule new': 'developer tool: writes a project folder',
  'capsule keygen': 'publisher tool: writes a secret key file',
  'capsule pack': 'publisher tool: writes a package file',
  'capsule sign': 'publisher tool: reads a secret key file',
  'capsule verify': "publisher tool: checks a file against a trust folder of the caller's choosing",
  'audit check': "an outsider's check of an export file, on the outsider's machine",
};

/** Flags an admin key never passes: they point the CLI at a store, TPM, key or folder directly. */
const REFUSED_FLAGS = new Set(['--config', '--socket', '--store', '--tcti', '--public-key', '--no-tpm', '--trust-dir']);

/** Every `elastos ...` the HIL suite (hil-tests/src) and the image boot test (image-build/src) run over SSH. */
const USED_OVER_SSH = [
  '--json status',
  'status',
  '--json health',
  '--json capsule list',
  '--json requests',
  'approve 1a2b3c',
  'deny 1a2b3c',
  '--json token list',
  'epoch bump',
  '--json audit tail --lines 1000',
  '--json audit tail --after 1234 --lines 1000',
  '--json audit tail --after 1234 --lines 1000 --capsule hammer',
  'audit verify',
  '--json audit verify',
  'capsule logs hammer --lines 2000',
  'capsule logs hammer -f --lines 5',
  'capsule stop hammer',
  'capsule remove hammer',
  'capsule install /var/lib/elastos-hil/hammer.capsule',
  'capsule restart hammer',
  '--json board status',
  '--json tpm status',
  '--json attest --nonce 00ff --out -',
];

/** What an admin key must still be refused. */
const REFUSED_OVER_SSH = [
  'audit verify --store /var/lib/elastos/store',
  'audit verify --tcti cmd:/usr/bin/id',
  'audit verify --tcti=cmd:/usr/bin/id',
  'audit verify --public-key 00ff',
  'audit verify --no-tpm',
  'audit tail --store /tmp',
  'audit tail --lines --store',
  'audit tail --after -1',
  'audit export --from 1 --to 2 --store /tmp',
  'audit prune --below 10 --store /tmp',
  'trust list --trust-dir /tmp',
  'trust add --name x --key 00 --trust-dir /tmp',
  '--config /etc/shadow status',
  '--socket /tmp/s status',
  'provision',
  'provision --reseal',
  'capsule keygen --out /tmp/k',
  'capsule sign x --key /tmp/k',
  'capsule new app',
  'audit check /tmp/export.jsonl --public-key 00ff',
  'capsule logs hammer -f5',
  'status --',
  'frobnicate',
];

interface AllowList {
  global: Set<string>;
  commands: Map<string, Set<string>>;
}

/** The ALLOW table and GLOBAL list of the wrapper script, as written there. */
function readAllowList(): AllowList {
  const text = readFileSync(WRAPPER, 'utf8');
  const table = /declare -A ALLOW=\(\n([\s\S]*?)\n\)/.exec(text)?.[1];
  const global = /^GLOBAL='([^']*)'/m.exec(text)?.[1];
  assert.ok(table !== undefined && global !== undefined, 'the wrapper has its ALLOW table and GLOBAL list');
  const commands = new Map<string, Set<string>>();
  for (const m of table.matchAll(/\['?([a-z ]+?)'?\]='([^']*)'/g)) {
    commands.set(m[1] as string, new Set((m[2] as string).split(/\s+/).filter(Boolean)));
  }
  return { global: new Set(global.split(/\s+/).filter(Boolean)), commands };
}

/** Every command of the CLI by its path (`audit tail`), groups without options of their own left out. */
function cliCommands(): Map<string, Command> {
  const all = new Map<string, Command>();
  const walk = (cmd: Command, path: string) => {
    for (const sub of cmd.commands) {
      const p = path ? `${path} ${sub.name()}` : sub.name();
      const group = sub.commands.length > 0 && sub.options.length === 0;
      if (!group || sub.name() === 'attest') all.set(p, sub);
      walk(sub, p);
    }
  };
  walk(buildProgram(), '');
  return all;
}

/** The wrapper's spellings of one option: each form, with `=` when it takes a value. */
function spellings(o: Option): string[] {
  const takes = o.required || o.optional ? '=' : '';
  return [o.long, o.short].filter((f): f is string => f !== undefined).map((f) => `${f}${takes}`);
}

function checkOptions(where: string, options: readonly Option[], allowed: Set<string>): void {
  for (const o of options) {
    const forms = spellings(o);
    if (REFUSED_FLAGS.has(o.long ?? '')) {
      for (const f of forms) assert.ok(!allowed.has(f), `${where}: ${f} is refused, yet the wrapper allows it`);
    } else {
      for (const f of forms) assert.ok(allowed.has(f), `${where}: ${f} is neither allowed by the wrapper nor refused`);
    }
  }
  const known = new Set(options.flatMap(spellings));
  for (const f of allowed) assert.ok(known.has(f), `${where}: the wrapper allows ${f}, which the CLI does not have`);
}

/** Runs the wrapper as sshd would, with a recorder for elastos. */
function throughWrapper(line: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [WRAPPER, '--elastos', recorder], {
    env: { PATH: '/usr/bin:/bin', SSH_ORIGINAL_COMMAND: `elastos ${line}` },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let recorder = '';

describe('SSH wrapper: the allow list matches the CLI and what admins run over SSH', () => {
  const dir = makeTempDir('ssh-allow-');
  before(() => {
    recorder = join(dir.path, 'elastos');
    writeFileSync(recorder, '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(recorder, 0o755);
  });
  after(() => dir.remove());

  it('every CLI command is allowed or refused by name, and every flag of an allowed one too', () => {
    const allow = readAllowList();
    const cli = cliCommands();
    for (const path of allow.commands.keys()) {
      if (path === 'help') continue; // commander's own
      assert.ok(cli.has(path), `the wrapper allows "${path}", which the CLI does not have`);
    }
    for (const [path, cmd] of cli) {
      const allowed = allow.commands.get(path);
      if (allowed === undefined) {
        assert.ok(path in REFUSED_COMMANDS, `"elastos ${path}" is neither allowed by the wrapper nor refused`);
        continue;
      }
      assert.ok(!(path in REFUSED_COMMANDS), `"elastos ${path}" is refused, yet the wrapper allows it`);
      checkOptions(`elastos ${path}`, cmd.options, allowed);
    }
    const global = new Set([...allow.global].filter((f) => f !== '-h' && f !== '--help'));
    checkOptions('elastos (global)', buildProgram().options, global);
  });

  it('passes every command the HIL suite and the boot test run, word for word', () => {
    for (const line of USED_OVER_SSH) {
      const r = throughWrapper(line);
      assert.equal(r.status, 0, `elastos ${line}: ${r.stderr.trim()}`);
      assert.deepEqual(r.stdout.trim().split('\n'), line.split(' '), `elastos ${line} reached elastos unchanged`);
    }
  });

  it('refuses offline, developer and override commands and flags with E_USAGE (exit 64), elastos never run', () => {
    for (const line of REFUSED_OVER_SSH) {
      const r = throughWrapper(line);
      assert.equal(r.status, 64, `elastos ${line} exited ${r.status}: ${r.stdout}`);
      assert.match(r.stderr, /^error E_USAGE: /, `elastos ${line}`);
      assert.equal(r.stdout, '', `elastos ${line} never ran`);
    }
  });
});
