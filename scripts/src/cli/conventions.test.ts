import assert from 'node:assert/strict';
import { stripVTControlCharacters } from 'node:util';
import { ERROR_CODES } from '@elastos/runtime';
import { runElastos } from '@elastos/testkit';
import { type Command, CommanderError } from 'commander';
import { exitCodeTable, normaliseTable, readmeExitCodeTable } from './exit-codes.js';
import { buildProgram } from './program.js';
import { colourEnabled } from './style.js';
import { fitColumns, renderTable } from './table.js';

/** Every command of the tree, as its path of names (the root is []). */
function walk(cmd: Command, path: string[] = []): Array<{ path: string[]; cmd: Command }> {
  return [{ path, cmd }, ...cmd.commands.flatMap((c) => walk(c, [...path, c.name()]))];
}

/** `elastos <path> --help` in-process on a fresh tree: the help text, or what went wrong. */
async function helpOf(path: string[]): Promise<{ out: string; exitCode: number; code: string }> {
  const program = buildProgram();
  let out = '';
  const writeOut = (s: string) => {
    out += s;
  };
  for (const { cmd } of walk(program)) cmd.exitOverride().configureOutput({ writeOut });
  try {
    await program.parseAsync([...path, '--help'], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return { out, exitCode: err.exitCode, code: err.code };
    throw err;
  }
  return { out, exitCode: -1, code: 'no help shown' };
}

/** The visible width of a terminal line. */
const visible = (line: string) => stripVTControlCharacters(line).length;

const run = (args: string[], env: NodeJS.ProcessEnv = process.env) => runElastos(args, { env });

describe('CLI conventions', () => {
  it('has a true --help on every registered command: exit 0, its description, every option and argument', async () => {
    const all = walk(buildProgram());
    assert.ok(all.length >= 4, 'status, version, health and the root at least');
    for (const { path, cmd } of all) {
      const name = ['elastos', ...path].join(' ');
      const help = await helpOf(path);
      assert.deepEqual([help.exitCode, help.code], [0, 'commander.helpDisplayed'], name);
      assert.match(help.out, new RegExp(`^Usage: ${name}`), name);
      if (path.length > 0) assert.ok(cmd.description().length > 0, `${name} has a description`);
      for (const line of cmd.description().split('\n')) {
        for (const word of line.split(/\s+/).filter(Boolean)) assert.ok(help.out.includes(word), `${name}: ${word}`);
      }
      for (const opt of cmd.options)
        assert.ok(help.out.includes(opt.long ?? opt.short ?? '?'), `${name}: ${opt.flags}`);
      for (const arg of cmd.registeredArguments) assert.ok(help.out.includes(arg.name()), `${name}: <${arg.name()}>`);
      for (const global of ['--json', '--config', '--socket'])
        assert.ok(help.out.includes(global), `${name}: ${global}`);
      for (const sub of cmd.commands) assert.ok(help.out.includes(sub.name()), `${name} lists ${sub.name()}`);
    }
  });

  it('exits 0 from --help in a real process, and 64 with error E_USAGE on an unknown option', async () => {
    const h = await run(['health', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: elastos health/);
    const bad = await run(['status', '--frobnicate']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /^error E_USAGE: unknown option '--frobnicate'\n$/);
  });

  it('answers a command group run without its subcommand with its help, then error E_USAGE and exit 64', async () => {
    // A pure group: subcommands and nothing of its own (`attest` both acts and has `attest verify`).
    const groups = walk(buildProgram()).filter(
      ({ path, cmd }) => path.length > 0 && cmd.commands.length > 0 && cmd.options.length === 0,
    );
    assert.ok(groups.length > 0);
    for (const { path } of groups) {
      const r = await run(path);
      assert.equal(r.code, 64, path.join(' '));
      assert.match(r.stderr, new RegExp(`^Usage: elastos ${path.join(' ')}`), path.join(' '));
      assert.match(r.stderr, /^error E_USAGE: /m, path.join(' '));
    }
  });

  it('documents every exit status in scripts/README.md, generated from codes.ts', () => {
    const table = readmeExitCodeTable();
    assert.ok(table, 'scripts/README.md has the exit-codes markers');
    assert.equal(table, normaliseTable(exitCodeTable()), 'stale: run `node scripts/dist/cli/exit-codes.js --write`');
    for (const [code, { exit }] of Object.entries(ERROR_CODES)) {
      assert.match(
        table,
        new RegExp(`^\\|${exit}\\|[A-Za-z].*\`${code}\``, 'm'),
        `${code} under ${exit} with a meaning`,
      );
    }
  });

  it('colours only a TTY with colours, and never with NO_COLOR set (even empty)', () => {
    const tty = { isTTY: true, hasColors: () => true } as const;
    assert.equal(colourEnabled(tty, {}), true);
    assert.equal(colourEnabled(tty, { NO_COLOR: '1' }), false);
    assert.equal(colourEnabled(tty, { NO_COLOR: '' }), false);
    assert.equal(colourEnabled({ isTTY: false, hasColors: () => true }, {}), false);
    assert.equal(colourEnabled(process.stdout.isTTY ? { isTTY: false } : process.stdout, {}), false);
  });

  it('fits tables into 80 columns, wrapping long cells rather than cutting them', () => {
    const hash = 'ab'.repeat(32);
    const rows = [
      [hash, 'storage://photos/vacation/2026/very-long-name.jpg', 'read,write', '2026-11-24T23:59:59.000Z'],
      ['short', 'x', 'y', 'z'],
    ];
    const text = renderTable(['token', 'resource', 'actions', 'expires'], rows);
    for (const line of text.split('\n')) assert.ok(visible(line) <= 80, `${visible(line)}: ${line}`);
    const firstColumn = text
      .split('\n')
      .map((line) => (line.split('│')[1] ?? '').trim())
      .join('');
    assert.ok(firstColumn.includes(hash), 'the hash survives, wrapped');
    assert.deepEqual(fitColumns([10, 10], 80), [10, 10]);
    const cols = fitColumns([70, 40, 10], 80);
    assert.ok(cols.reduce((a, b) => a + b, 0) + 4 <= 80);
    assert.equal(cols[2], 10, 'the narrow column keeps its width');
  });
});
