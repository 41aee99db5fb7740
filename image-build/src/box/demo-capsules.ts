/**
 * Runs ON THE BOX (elastos-demo.service, after elastosd): the story of capsules/README.md from
 * the image's own files. Waits for the runtime's admin socket, installs each signed first-party
 * capsule shipped in SHARE/capsules that is not installed yet (in start order), seeds storage's
 * photo and the shell's rules on first install, then starts what does not run. Idempotent: a
 * second boot only starts what the runtime did not start itself.
 *   node demo-capsules.js /usr/share/elastos
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdminClient, decodePackage, hasCode, loadConfig } from '@elastos/runtime';

type Call = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;
const say = (line: string) => process.stdout.write(`elastos-demo: ${line}\n`);

const call: Call = async (cmd, args = {}) => {
  const client = await AdminClient.connect(loadConfig().admin.socket);
  try {
    return await client.call(cmd, args);
  } finally {
    client.close();
  }
};

async function waitForRuntime(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await call('version');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** First install only: what storage serves and what the shell decides by. */
function seed(share: string, name: string): void {
  const data = join(loadConfig().stateDir, 'capsules', name, 'data');
  if (name === 'storage' && !existsSync(join(data, 'files'))) {
    mkdirSync(join(data, 'files', 'photos'), { recursive: true });
    copyFileSync(join(share, 'demo', 'vacation.jpg'), join(data, 'files', 'photos', 'vacation.jpg'));
  }
  if (name === 'shell' && !existsSync(join(data, 'rules.json'))) {
    mkdirSync(data, { recursive: true });
    copyFileSync(join(share, 'demo', 'rules.json'), join(data, 'rules.json'));
  }
}

async function main(share: string): Promise<void> {
  await waitForRuntime(10 * 60_000);
  const files = readdirSync(join(share, 'capsules'))
    .filter((f) => f.endsWith('.capsule'))
    .sort();
  const installed = new Map(
    ((await call('capsule.list')) as Array<{ name: string; id: string }>).map((c) => [c.name, c.id]),
  );
  const names: string[] = [];
  for (const f of files) {
    const path = join(share, 'capsules', f);
    const id = decodePackage(new Uint8Array(readFileSync(path))).id;
    const r =
      installed.get(nameOf(f)) === id ? undefined : ((await call('capsule.install', { path })) as { name: string });
    if (r) {
      say(`installed ${r.name}`);
      seed(share, r.name);
    }
    names.push(nameOf(f));
  }
  const rows = (await call('capsule.status')) as Array<{ name: string; state: string }>;
  for (const name of names) {
    const row = rows.find((r) => r.name === name);
    if (!row || row.state === 'running' || row.state === 'backoff') continue;
    // The runtime starts installed capsules itself at boot: one may have started meanwhile.
    await call('capsule.start', { name }).catch((err: unknown) => {
      if (!hasCode(err, 'E_CAPSULE_EXISTS')) throw err;
    });
  }
  say(`capsules: ${names.join(', ')}`);
}

/** `NN-name-version.capsule` → name. */
const nameOf = (file: string) => file.replace(/^\d+-/, '').replace(/-[^-]+\.capsule$/, '');

main(process.argv[2] ?? '/usr/share/elastos').catch((err: Error & { code?: string }) => {
  process.stderr.write(`error ${err.code ?? 'E_INTERNAL'}: ${err.message}\n`);
  process.exit(1);
});
