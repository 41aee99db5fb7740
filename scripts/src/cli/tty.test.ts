import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELASTOS, ELASTOSD, makeTempDir, noTpmDevConfig, stopChild, waitFor } from '@elastos/testkit';

const ESC = '\u001b';
const PROGRESS = join(dirname(fileURLToPath(import.meta.url)), 'progress.js');

/** Runs a command under a real pty (util-linux script(1)), or piped when `tty` is false. */
function run(argv: string[], env: Record<string, string>, tty: boolean): Promise<string> {
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', ...env };
  const [file, args] = tty ? ['script', ['-qec', argv.join(' '), '/dev/null']] : [argv[0] ?? '', argv.slice(1)];
  return new Promise((resolve) => {
    execFile(file as string, args as string[], { encoding: 'utf8', env: base }, (_err, stdout, stderr) =>
      resolve(stdout + stderr),
    );
  });
}

describe('CLI on a terminal (a real pty)', function () {
  this.timeout(20_000);
  let dir: ReturnType<typeof makeTempDir>;
  before(() => {
    dir = makeTempDir();
  });
  after(() => dir.remove());

  it('colours the error code on a TTY, never with NO_COLOR, never when piped', async () => {
    const cmd = [process.execPath, ELASTOS, '--config', '/nonexistent/config.json', 'status'];
    const coloured = await run(cmd, {}, true);
    assert.ok(coloured.includes(`${ESC}[31merror E_CONFIG_MISSING${ESC}[39m: cannot read config`), coloured);
    const noColour = await run(cmd, { NO_COLOR: '1' }, true);
    assert.match(noColour, /^error E_CONFIG_MISSING: cannot read config/);
    assert.ok(!noColour.includes(ESC), noColour);
    const piped = await run(cmd, {}, false);
    assert.match(piped, /^error E_CONFIG_MISSING: /);
    assert.ok(!piped.includes(ESC), piped);
  });

  it('shows a progress bar on a TTY only, and never with --json', async () => {
    const script = join(dir.path, 'bar.mjs');
    writeFileSync(
      script,
      `import { createProgress } from ${JSON.stringify(PROGRESS)};
const json = process.argv.includes('--json');
const p = createProgress('verify', 40, { json });
for (let i = 0; i < 40; i++) { p.tick(); await new Promise((r) => setTimeout(r, 2)); }
p.stop();
process.stdout.write('done\\n');`,
    );
    const onTty = await run([process.execPath, script], {}, true);
    assert.match(onTty, /verify \[[█░]+\] 100% 40\/40/);
    assert.equal((await run([process.execPath, script], {}, false)).trim(), 'done');
    assert.doesNotMatch(await run([process.execPath, script, '--json'], {}, true), /verify/);
  });

  it("shows the runtime's progress of audit verify as a bar on a TTY, none when piped or with --json", async () => {
    const config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify(noTpmDevConfig()));
    const daemon = spawn(process.execPath, [ELASTOSD, '--config', config], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(join(dir.path, 'run', 'admin.sock')));
      const cmd = [process.execPath, ELASTOS, '--config', config, 'audit', 'verify'];
      const onTty = await run(cmd, {}, true);
      assert.match(onTty, /audit verify \[█+\] 100% (\d+)\/\1/);
      assert.match(onTty, /ok\s+\S*\s+true/); // the key is bold on a TTY
      const piped = await run(cmd, {}, false);
      assert.doesNotMatch(piped, /audit verify \[/);
      assert.match(piped, /^ok +true$/m);
      const json = await run([...cmd, '--json'], {}, true);
      assert.doesNotMatch(json, /audit verify \[/);
      assert.match(json, /"ok":\s*true/);
    } finally {
      await stopChild(daemon);
    }
  });
});
