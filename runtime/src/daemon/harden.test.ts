import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HARDEN = fileURLToPath(new URL('./harden.js', import.meta.url));

/** A Node child, hardened as elastosd hardens itself (or not), that waits for a signal. */
async function child(hardened: boolean) {
  const code = hardened
    ? `const m = await import(${JSON.stringify(HARDEN)}); m.hardenDaemon({ warn() {} }); console.log(m.isDumpable());`
    : 'console.log(true);';
  const p = spawn(
    process.execPath,
    ['--inspect-port=0', '--input-type=module', '-e', `${code} setInterval(() => {}, 1000);`],
    {
      env: {},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  p.stderr.on('data', (d) => {
    err += d;
  });
  while (out === '') await new Promise((r) => setTimeout(r, 20));
  return { p, out: () => out, err: () => err };
}

describe('elastosd hardening', () => {
  it('is not dumpable, writes no core file and opens no inspector on SIGUSR1', async () => {
    const c = await child(true);
    try {
      assert.equal(c.out().trim(), 'false', 'not dumpable');
      const limits = readFileSync(`/proc/${c.p.pid}/limits`, 'utf8');
      assert.match(limits, /Max core file size\s+0\s+0/);
      c.p.kill('SIGUSR1');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(c.p.exitCode, null, 'still running');
      assert.doesNotMatch(c.err(), /Debugger listening/);
    } finally {
      c.p.kill('SIGKILL');
    }
  });

  it('control: a plain Node opens its inspector on SIGUSR1', async () => {
    const c = await child(false);
    try {
      c.p.kill('SIGUSR1');
      for (let i = 0; i < 50 && !/Debugger listening/.test(c.err()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(c.err(), /Debugger listening/);
    } finally {
      c.p.kill('SIGKILL');
    }
  });
});
